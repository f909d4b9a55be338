"""Plans: a change to what a plan gives its registries reaches every live registry on it.

Registries read their defaults and limits from their plan at each reconcile, so changing a plan changes the desired
stack of every registry on it: each one's generation moves on and a reconciliation is queued (after commit).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet

from provisioning import audit
from provisioning.choices import DesiredState, RunTrigger
from provisioning.models import Plan, Registry
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import request_reconcile

EDITABLE_FIELDS = Plan.EDITABLE_FIELDS
DESCRIPTIVE_FIELDS = frozenset({"name", "display_name", "description"})
"""Fields people read but no registry's stack uses: changing only these reconciles nothing."""


def snapshot(plan: Plan) -> dict[str, Any]:
    return {name: getattr(plan, name) for name in EDITABLE_FIELDS}


def registries_following(plan: Plan) -> QuerySet[Registry]:
    """The registries whose stack follows ``plan``: live and not being deleted."""
    return Registry.objects.filter(plan=plan).live().exclude(desired_state=DesiredState.DELETED)


@transaction.atomic
def update_plan(plan: Plan, changes: dict[str, Any], *, actor: Any, via: str) -> Plan:
    """Apply ``changes`` to ``plan`` (validated as a whole), audit them, and queue the reconciliation of every live
    registry on the plan when a field their stacks use changed. Returns the plan as saved."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ActionRefused(
            f"These plan fields cannot be changed: {', '.join(sorted(unknown))}.",
            code="not_editable",
            status=400,
        )
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    before = snapshot(locked)
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    changed = audit.diff(before, snapshot(locked))
    if not changed:
        return locked
    locked.save()
    following = registries_following(locked)
    requeue = bool(set(changed) - DESCRIPTIVE_FIELDS)
    if requeue:
        following.update(generation=F("generation") + 1)
    registries = list(following.select_related("cluster")) if requeue else []
    audit.record(
        actor,
        via,
        "update",
        locked,
        changes={**changed, **({"registries_requeued": len(registries)} if requeue else {})},
    )
    for registry in registries:
        request_reconcile(registry, RunTrigger.CHANGED, actor=actor)
    return locked
