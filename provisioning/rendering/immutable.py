"""Fields a real API server refuses to change (422 "field is immutable"), as a pure rule over two manifests.

``immutable_changes(before, after)`` compares two renders of the same object (the last applied manifest and the new
one), not a live object: defaulting adds fields to what a server returns. Rendering keeps every selector,
``serviceName`` and ``podManagementPolicy`` independent of anything a user can edit, so the only ordinary edits that
change an immutable field are listed in ``RECREATE_EDITS``: the engine carries them out by deleting the object with
``propagationPolicy=Orphan`` and applying it again (``recreate_policy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.rendering.quantities import whole_bytes

STATEFULSET_MUTABLE = frozenset(
    {
        "replicas",
        "template",
        "updateStrategy",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
        "ordinals",
    }
)
SELECTOR_KINDS = frozenset({"Deployment", "ReplicaSet", "DaemonSet"})
CLAIM_TEMPLATES = "spec.volumeClaimTemplates"


@dataclass(frozen=True, slots=True)
class RecreateEdit:
    """An edit a user can make whose render changes an immutable field, and how the engine carries it out."""

    edit: str
    kind: str
    paths: tuple[str, ...]
    how: str


RECREATE_EDITS: tuple[RecreateEdit, ...] = (
    RecreateEdit(
        "the cluster's storage class",
        "StatefulSet",
        (CLAIM_TEMPLATES,),
        "delete the StatefulSet with propagationPolicy=Orphan and apply it again: its pods and claims stay and are "
        "adopted; existing claims keep their class, claims created afterwards get the new one",
    ),
    RecreateEdit(
        "the plan's managed Redis persistence size",
        "StatefulSet",
        (CLAIM_TEMPLATES,),
        "delete the Redis StatefulSet with propagationPolicy=Orphan and apply it again: the data claim stays; a "
        "larger size reaches the existing claim only by expanding the claim itself, where its class allows",
    ),
)


def _get(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _changed(before: Mapping[str, Any], after: Mapping[str, Any], paths: tuple[str, ...]) -> list[str]:
    return [path for path in paths if _get(before, path) != _get(after, path)]


def _claim_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    old, new = dict(before.get("spec") or {}), dict(after.get("spec") or {})
    old_size = ((old.pop("resources", None) or {}).get("requests") or {}).get("storage")
    new_size = ((new.pop("resources", None) or {}).get("requests") or {}).get("storage")
    found = [f"spec.{key}" for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    if old_size != new_size and (
        old_size is None or new_size is None or whole_bytes(new_size) < whole_bytes(old_size)
    ):
        found.append("spec.resources.requests.storage")
    return found


def immutable_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Paths whose change from ``before`` to ``after`` a real API server refuses, for the object's kind."""
    kind = after["kind"]
    found = _changed(before, after, ("kind", "metadata.name", "metadata.namespace"))
    if kind == "StatefulSet":
        old, new = before.get("spec") or {}, after.get("spec") or {}
        found += [
            f"spec.{key}"
            for key in sorted((set(old) | set(new)) - STATEFULSET_MUTABLE)
            if old.get(key) != new.get(key)
        ]
    elif kind in SELECTOR_KINDS:
        found += _changed(before, after, ("spec.selector",))
    elif kind == "Job":
        found += _changed(before, after, ("spec.selector", "spec.template"))
    elif kind == "Service":
        found += [
            path
            for path in ("spec.clusterIP", "spec.clusterIPs")
            if _get(before, path) and _get(before, path) != _get(after, path)
        ]
    elif kind == "PersistentVolumeClaim":
        found += _claim_changes(before, after)
    elif kind in ("Secret", "ConfigMap") and before.get("immutable") is True:
        found += _changed(before, after, ("immutable", "data", "binaryData", "stringData"))
    return found


def recreate_policy(kind: str, paths: list[str]) -> str | None:
    """How the engine may carry out a change of immutable ``paths``: ``"Orphan"`` (delete with
    ``propagationPolicy=Orphan``, apply again: pods and claims survive), ``"Background"`` (a Job: delete it and its
    pods, apply again), or None when it must be refused with the paths named."""
    if not paths:
        return None
    if kind == "StatefulSet" and set(paths) <= {CLAIM_TEMPLATES}:
        return "Orphan"
    if kind == "Job" and set(paths) <= {"spec.selector", "spec.template"}:
        return "Background"
    return None
