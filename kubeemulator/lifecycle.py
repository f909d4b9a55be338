"""Lifecycles the API server itself runs: namespaces that terminate, CustomResourceDefinitions that get served."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import ApiError, Cause
from .kinds import Kind


def terminating(kind: Kind, name: str, namespace: str) -> ApiError:
    """The NamespaceLifecycle admission refusal of a create in a Terminating namespace (403)."""
    why = f"unable to create new content in namespace {namespace} because it is being terminated"
    cause = Cause("NamespaceTerminating", f"namespace {namespace} is being terminated", "metadata.namespace")
    return ApiError.forbidden(kind, name, why, [cause])


def terminating_namespace(live: dict[str, Any], now: str) -> dict[str, Any]:
    """``live`` as a namespace being deleted: ``deletionTimestamp`` set, phase ``Terminating``."""
    metadata = {**live["metadata"], "deletionTimestamp": now, "deletionGracePeriodSeconds": 0}
    status = {
        "phase": "Terminating",
        "conditions": [
            {
                "type": "NamespaceDeletionDiscoveryFailure",
                "status": "False",
                "reason": "ResourcesDiscovered",
                "message": "All resources successfully discovered",
                "lastTransitionTime": now,
            },
            {
                "type": "NamespaceContentRemaining",
                "status": "True",
                "reason": "SomeResourcesRemain",
                "message": "Some resources are remaining",
                "lastTransitionTime": now,
            },
        ],
    }
    return {**live, "metadata": metadata, "status": status}


def served_crds(crds: Iterable[dict[str, Any]]) -> set[str]:
    """Names of the CRDs whose kinds are served: those with a served version (the emulator serves ``v1``)."""
    served = set()
    for crd in crds:
        versions = (crd.get("spec") or {}).get("versions") or []
        if any(v.get("served", True) and v.get("name") == "v1" for v in versions if isinstance(v, dict)):
            served.add(crd["metadata"]["name"])
    return served


def crd_status(crd: dict[str, Any], now: str) -> dict[str, Any]:
    """What the apiextensions controllers report once a CRD's names are accepted and it is established."""
    spec = crd.get("spec") or {}
    before = {c.get("type"): c for c in (crd.get("status") or {}).get("conditions") or []}
    conditions = []
    for kind, reason, message in (
        ("NamesAccepted", "NoConflicts", "no conflicts found"),
        ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
    ):
        since = before.get(kind, {}).get("lastTransitionTime", now)
        conditions.append(
            {
                "type": kind,
                "status": "True",
                "reason": reason,
                "message": message,
                "lastTransitionTime": since,
            }
        )
    stored = [v.get("name") for v in spec.get("versions") or [] if isinstance(v, dict) and v.get("storage")]
    return {"acceptedNames": spec.get("names") or {}, "conditions": conditions, "storedVersions": stored}
