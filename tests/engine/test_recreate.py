"""Re-creating an object waits for the old one to be gone; a run that cannot wait stops, retried, deleting once.

The emulator deletes at once, so the finalizer a real API server runs for an orphaning delete is played by a
gateway whose object never goes away.
"""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.reconcile.errors import StillDeleting, classify
from provisioning.reconcile.recreate import recreate

KEY = ("apps/v1", "StatefulSet", "ns", "reg-redis")
DESIRED: dict[str, Any] = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "reg-redis"}}


class LingeringGateway:
    """Deletes are accepted, but the object stays (its finalizer has not run yet)."""

    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.applied: list[dict[str, Any]] = []

    def delete(
        self, api_version: str, kind: str, name: str, namespace: str = "", *, propagation: str
    ) -> bool:
        self.deleted.append(propagation)
        return True

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        return {"metadata": {"name": name, "deletionTimestamp": "2026-01-01T00:00:00Z"}}

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        self.applied.append(manifest)
        return manifest


def test_an_object_that_is_not_gone_in_time_stops_the_run_transiently_without_applying() -> None:
    gateway = LingeringGateway()

    with pytest.raises(StillDeleting) as stopped:
        recreate(gateway, KEY, DESIRED, {"metadata": {}}, "Orphan", wait=0.0)  # type: ignore[arg-type]

    assert gateway.deleted == ["Orphan"] and gateway.applied == []
    failure = classify(stopped.value)
    assert (
        failure.transient and "StatefulSet ns/reg-redis is being deleted to be re-created" in failure.message
    )


def test_the_next_run_does_not_delete_it_again() -> None:
    gateway = LingeringGateway()
    terminating = {"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}

    with pytest.raises(StillDeleting):
        recreate(gateway, KEY, DESIRED, terminating, "Orphan", wait=0.0)  # type: ignore[arg-type]

    assert gateway.deleted == []
