"""Immutable fields in a run: never send a change the API server refuses (422 "field is immutable").

Before an object is applied again, its new render is compared with the manifest last applied (``ManagedResource``:
two renders, not the live object, which defaulting fills in; without a stored manifest nothing is known, and the
apply goes ahead as before). A change ``recreate_policy`` can carry out safely is carried out: the object is deleted
with that propagation policy (``Orphan`` for a StatefulSet: its pods and claims stay, and the new one adopts them) and
applied again (once the old one is gone: a run that cannot wait for it stops and is retried, and the next one
does not delete it again). Any other change of an immutable field (a selector) raises ``ImmutableFieldChange``
naming it: the object is left untouched, the provider's move.
"""

from __future__ import annotations

import time
from typing import Any

from provisioning.kube import KubeGateway
from provisioning.kube.resources import ObjectKey
from provisioning.models import ManagedResource
from provisioning.reconcile.errors import ImmutableFieldChange, StillDeleting
from provisioning.rendering.immutable import immutable_changes, recreate_policy

GONE_WITHIN = 5.0
"""Seconds a run waits for a deleted object to be gone before it stops (and is retried)."""
CHECKED_KINDS = frozenset({"StatefulSet", "Deployment", "Job", "Service", "PersistentVolumeClaim"})


class LastApplied:
    """The manifests last applied for one registry, read once per run and only when an update needs them."""

    def __init__(self, registry_id: int) -> None:
        self.registry_id = registry_id
        self._manifests: dict[ObjectKey, dict[str, Any]] | None = None

    def get(self, key: ObjectKey) -> dict[str, Any] | None:
        if self._manifests is None:
            rows = ManagedResource.objects.filter(registry_id=self.registry_id, kind__in=CHECKED_KINDS)
            self._manifests = {
                (row.api_version, row.kind, row.namespace, row.name): row.manifest
                for row in rows.only("api_version", "kind", "namespace", "name", "manifest")
                if row.manifest
            }
        return self._manifests.get(key)


def recreation(key: ObjectKey, desired: dict[str, Any], last: LastApplied) -> tuple[str, list[str]] | None:
    """``(propagation policy, paths)`` when applying ``desired`` needs the object re-created, else None.

    Raises ``ImmutableFieldChange`` for a change that cannot be carried out safely.
    """
    if key[1] not in CHECKED_KINDS:
        return None
    before = last.get(key)
    if before is None:
        return None
    paths = immutable_changes(before, desired)
    if not paths:
        return None
    policy = recreate_policy(key[1], paths)
    if policy is None:
        raise ImmutableFieldChange(key[1], key[2], key[3], paths)
    return policy, paths


def recreate(
    gateway: KubeGateway,
    key: ObjectKey,
    desired: dict[str, Any],
    live: dict[str, Any],
    policy: str,
    wait: float = GONE_WITHIN,
) -> dict[str, Any]:
    """Delete the object with ``policy`` (unless a previous run did), wait up to ``wait`` seconds for it to be gone
    (an orphaning delete runs a finalizer first), then apply ``desired`` in its place."""
    api_version, kind, namespace, name = key
    if not (live.get("metadata") or {}).get("deletionTimestamp"):
        gateway.delete(api_version, kind, name, namespace, propagation=policy)
    deadline = time.monotonic() + wait
    while gateway.get(api_version, kind, name, namespace) is not None:
        if time.monotonic() > deadline:
            raise StillDeleting(f"{kind} {namespace}/{name}")
        time.sleep(0.2)
    return gateway.apply(desired)
