"""Recording audit events, with secrets masked, from the UI, the API, the command line or the system."""

from __future__ import annotations

from typing import Any

from django.db import models

from provisioning.choices import Via
from provisioning.events import hooks
from provisioning.models import AuditEvent, Cluster, Plan, Registry

SENSITIVE_WORDS = ("password", "secret", "token", "key", "kubeconfig", "database_admin_url", "htpasswd")
MASK = "••••••"


def mask(changes: dict[str, Any]) -> dict[str, Any]:
    """Replace every value whose name looks secret by a mask, recursively."""
    masked: dict[str, Any] = {}
    for name, value in changes.items():
        if isinstance(value, dict):
            masked[name] = mask(value)
        elif any(word in name.lower() for word in SENSITIVE_WORDS) and name.lower() not in ("access_key",):
            masked[name] = MASK if value not in (None, "") else value
        else:
            masked[name] = value
    return masked


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{field: [old, new]}`` for every field that changed."""
    return {
        k: [before.get(k), after.get(k)]
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    }


def via_of_request(request: Any) -> str:
    path = getattr(request, "path", "") or ""
    return Via.API if path.startswith("/api/") else Via.UI


def record(
    actor: Any,
    via: str,
    action: str,
    target: models.Model | None = None,
    *,
    target_type: str = "",
    target_repr: str = "",
    changes: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> AuditEvent:
    user = actor if getattr(actor, "is_authenticated", False) else None
    if target is not None:
        target_type = target_type or target._meta.model_name or ""
        target_repr = target_repr or str(target)
        if registry is None and isinstance(target, Registry):
            registry = target
    event = AuditEvent.objects.create(
        actor=user,
        actor_name=getattr(user, "username", "") or (actor if isinstance(actor, str) else "system"),
        via=via,
        action=action,
        target_type=target_type,
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_repr=target_repr[:300],
        registry=registry,
        changes=_jsonable(mask(changes or {})),
    )
    if isinstance(target, Registry):  # every audited change of a registry is also an event for automation
        hooks.registry_action(target.pk, action, actor=event.actor_name, via=via, changes=event.changes)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


NAMED_IDS: dict[str, tuple[str, type[Plan] | type[Cluster]]] = {
    "plan_id": ("plan", Plan),
    "cluster_id": ("cluster", Cluster),
}
"""Changes recorded by id that people read by name: field → (shown as, model)."""


def readable_changes(events: list[AuditEvent]) -> dict[int, list[tuple[str, Any]]]:
    """Each event's changes as (field, value or [old, new]), plans and clusters named instead of numbered; one
    query per named model whatever the number of events."""
    names: dict[str, dict[int, str]] = {}
    for field, (_, model) in NAMED_IDS.items():
        ids = {
            v
            for event in events
            for v in _as_list(event.changes.get(field))
            if isinstance(v, int) and not isinstance(v, bool)
        }
        # asked even when no event names one (no id is 0): a page costs the same queries whatever it holds
        found = model.objects.filter(pk__in=sorted(ids) or [0]).only("name", "display_name")
        names[field] = {obj.pk: str(obj) for obj in found}
    out: dict[int, list[tuple[str, Any]]] = {}
    for event in events:
        items: list[tuple[str, Any]] = []
        for field, value in event.changes.items():
            known = names.get(field, {})
            label = NAMED_IDS[field][0] if field in NAMED_IDS else field
            if isinstance(value, list) and len(value) == 2:
                items.append((label, [known.get(v, v) if isinstance(v, int) else v for v in value]))
            else:
                items.append((label, known.get(value, value) if isinstance(value, int) else value))
        out[event.pk] = items
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
