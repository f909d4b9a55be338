"""Harbor's schema migration Job on the cluster: create it once, read how it ended, remove it when done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.kube import KubeGateway
from provisioning.models import Registry
from provisioning.reconcile.spec import build_spec, load_registry
from provisioning.rendering.upgrade import migration_job_name, render_migration_job

JOB_API = "batch/v1"


@dataclass(frozen=True)
class JobState:
    present: bool
    succeeded: bool = False
    failed: bool = False
    message: str = ""


def job_name(registry: Registry) -> str:
    spec = build_spec(registry, resolver=None)
    return migration_job_name(spec)


def create_job(gateway: KubeGateway, registry_id: int) -> str:
    """Apply the migration Job of the registry's target version; returns its name."""
    registry = load_registry(registry_id)
    assert registry is not None
    job = render_migration_job(build_spec(registry, resolver=None))
    gateway.apply(job)
    return str(job["metadata"]["name"])


def read_job(gateway: KubeGateway, namespace: str, name: str) -> JobState:
    live = gateway.get(JOB_API, "Job", name, namespace)
    if live is None:
        return JobState(present=False)
    return job_state(live)


def job_state(live: dict[str, Any]) -> JobState:
    """Complete or Failed from the Job's conditions (the failure's message is the Job's own)."""
    status = live.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return JobState(True, succeeded=True, message=str(condition.get("message") or "Complete"))
        if condition.get("type") == "Failed":
            message = str(condition.get("message") or condition.get("reason") or "Failed")
            return JobState(True, failed=True, message=message)
    active, failed = int(status.get("active") or 0), int(status.get("failed") or 0)
    return JobState(True, message=f"{active} pod running, {failed} failed attempts so far.")


def delete_job(gateway: KubeGateway, namespace: str, name: str) -> bool:
    """Remove the Job and its pods (a finished Job is history: the upgrade row keeps what it said)."""
    return gateway.delete(JOB_API, "Job", name, namespace, propagation="Background")
