"""Helpers of the engine tests: waiting on rows the worker writes, and comparing the cluster with the stack."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client

from kubeemulator import KubeEmulator
from provisioning.choices import RunStatus
from provisioning.kube import object_key
from provisioning.models import ReconcileRun, Registry
from provisioning.reconcile.spec import desired_objects
from provisioning.rendering import MANAGED_BY_LABEL, MANAGER, RENDERED_KINDS

T = TypeVar("T")
Key = tuple[str, str, str, str]


def wait_for(check: Callable[[], T | None], timeout: float = 60.0, what: str = "the condition") -> T:
    """Poll ``check`` until it returns something truthy; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def wait_phase(registry: Registry, phase: str, timeout: float = 60.0) -> Registry:
    def reached() -> Registry | None:
        registry.refresh_from_db()
        return registry if registry.phase == phase else None

    try:
        return wait_for(reached, timeout, f"{registry} to be {phase}")
    except AssertionError:
        runs = list(registry.runs.values_list("status", "trigger", "error_class", "error_message"))
        raise AssertionError(f"{registry} is {registry.phase}, not {phase}; runs: {runs}") from None


def finished_runs(registry: Registry) -> list[ReconcileRun]:
    return list(
        registry.runs.filter(status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED]).order_by(
            "pk"
        )
    )


def wait_run(run_id: int, timeout: float = 60.0) -> ReconcileRun:
    def done() -> ReconcileRun | None:
        run = ReconcileRun.objects.get(pk=run_id)
        return None if run.is_open else run

    return wait_for(done, timeout, f"run {run_id} to finish")


def desired_keys(registry: Registry) -> set[Key]:
    registry.refresh_from_db()
    return {object_key(obj) for obj in desired_objects(registry)}


def cluster_keys(emulator: KubeEmulator, registry: Registry) -> set[Key]:
    """The console's objects on the emulated cluster in the registry's namespace, and the namespace itself.

    What the cluster's own controllers make there (ReplicaSets, pods, claims, events, cert-manager's TLS Secret)
    is left out: kinds the console renders, labelled as managed by the console.
    """
    rendered = {kind for _, kind in RENDERED_KINDS}
    keys = {
        object_key(obj)
        for obj in emulator.objects(namespace=registry.namespace)
        if obj["kind"] in rendered and (obj["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) == MANAGER
    }
    keys |= {
        object_key(ns) for ns in emulator.objects("Namespace") if ns["metadata"]["name"] == registry.namespace
    }
    return keys


def find_live(emulator: KubeEmulator, kind: str, registry: Registry, name: str) -> dict[str, Any] | None:
    return next(
        (obj for obj in emulator.objects(kind, registry.namespace) if obj["metadata"]["name"] == name), None
    )


def live(emulator: KubeEmulator, kind: str, registry: Registry, name: str) -> dict[str, Any]:
    found = find_live(emulator, kind, registry, name)
    assert found is not None, f"{kind} {registry.namespace}/{name} is not on the cluster"
    return found


def someone_else(emulator: KubeEmulator) -> client.ApiClient:
    """An API client of another actor (kubectl, a person): its writes come from another field manager."""
    api = client.ApiClient(client.Configuration(host=emulator.url))
    api.user_agent = "kubectl/v1.33"
    return api


def run_of(outcome: Any) -> ReconcileRun:
    assert outcome.run_id is not None, "the run was not recorded"
    return ReconcileRun.objects.get(pk=outcome.run_id)


def condition(registry: Registry, type_: str) -> dict[str, Any]:
    found = registry.condition(type_)
    assert found is not None, f"{registry} has no {type_} condition"
    return found
