"""Pods a quota refuses, end to end: the engine reads the cluster's own words into "quota exceeded".

The in-repo emulator does not run a quota admission yet, so the test puts on the cluster what a real one shows when
it refuses pods: a ``ReplicaFailure`` condition written through the Deployment's ``/status`` (as the controller
writes it), and a Warning ``FailedCreate`` Event of the StatefulSet (as its controller records it). Events are read
only while a StatefulSet is short of replicas: a converged stack costs no Event request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from kubernetes import client

from provisioning.choices import CacheMode, ErrorClass, Phase, RunStatus, WhoseMove
from provisioning.models import CacheBinding
from provisioning.reconcile import reconcile
from tests import factories
from tests.engine.helpers import condition, live, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def refuse_core_pods(kube_emulator, registry, quota: str) -> None:
    """The Deployment cannot create its pods: its ReplicaSet's refusal copied into ``ReplicaFailure``."""
    name = f"{registry.name}-core"
    kube_emulator.break_workload(registry.namespace, name, kind="Deployment")
    served = live(kube_emulator, "Deployment", registry, name)  # the broken status, as a read shows it
    refusal = (
        f'pods "{name}-7d9f8b6c5d-x2x9q" is forbidden: exceeded quota: {quota}, requested: limits.cpu=1, '
        "used: limits.cpu=8, limited: limits.cpu=8"
    )
    served["status"]["conditions"].append(
        {
            "type": "ReplicaFailure",
            "status": "True",
            "lastUpdateTime": stamp(),
            "lastTransitionTime": stamp(),
            "reason": "FailedCreate",
            "message": refusal,
        }
    )
    with someone_else(kube_emulator) as api:
        # the client sends a plain dict as it is: the body the controller would PUT
        client.AppsV1Api(api).replace_namespaced_deployment_status(
            name, registry.namespace, cast(Any, served)
        )


def refuse_redis_pod(kube_emulator, registry, quota: str) -> dict[str, Any]:
    name = f"{registry.name}-redis"
    kube_emulator.break_workload(registry.namespace, name, kind="StatefulSet")
    statefulset = live(kube_emulator, "StatefulSet", registry, name)
    message = (
        f'create Pod {name}-0 in StatefulSet {name} failed error: pods "{name}-0" is forbidden: exceeded quota: '
        f"{quota}, requested: limits.memory=512Mi, used: limits.memory=16Gi, limited: limits.memory=16Gi"
    )
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.17c2d9e1a2b3c4d5", "namespace": registry.namespace},
        "involvedObject": {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": name,
            "namespace": registry.namespace,
            "uid": statefulset["metadata"]["uid"],
        },
        "reason": "FailedCreate",
        "message": message,
        "source": {"component": "statefulset-controller"},
        "firstTimestamp": stamp(),
        "lastTimestamp": stamp(),
        "count": 3,
        "type": "Warning",
        "reportingComponent": "statefulset-controller",
        "reportingInstance": "",
    }
    with someone_else(kube_emulator) as api:
        client.CoreV1Api(api).create_namespaced_event(registry.namespace, cast(Any, event))
    return event


def test_pods_refused_by_the_consoles_quota_are_quota_exceeded_the_providers_move(
    make_emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert CacheBinding.objects.get(registry=registry).mode == CacheMode.MANAGED
    assert reconcile(registry.pk).phase == Phase.READY
    [quota] = [obj["metadata"]["name"] for obj in kube_emulator.objects("ResourceQuota", registry.namespace)]
    refuse_core_pods(kube_emulator, registry, quota)
    refuse_redis_pod(kube_emulator, registry, quota)
    kube_emulator.reset_stats()

    outcome = reconcile(registry.pk)

    run = run_of(outcome)
    assert (run.status, run.error_class, run.whose_move) == (
        RunStatus.FAILED,
        ErrorClass.QUOTA_EXCEEDED,
        WhoseMove.PROVIDER,
    )
    assert not outcome.should_retry  # a person must act: no retry loop
    registry.refresh_from_db()
    available = condition(registry, "Available")
    assert (available["reason"], available["whose_move"]) == ("QuotaExceeded", WhoseMove.PROVIDER)
    assert (
        f"core cannot create its pods (quota {quota} exceeded on limits.cpu (requested 1"
        in available["message"]
    )
    assert f"redis cannot create its pods (quota {quota} exceeded on limits.memory" in available["message"]
    assert condition(registry, "Progressing")["reason"] == "QuotaExceeded"
    assert registry.phase == Phase.DEGRADED
    components = {c.kind: c for c in registry.components.all()}
    assert components["core"].message.startswith(f"Cannot create its pods: quota {quota} exceeded")
    assert kube_emulator.stats()["by_kind"]["Event"] == {"list": 1}

    kube_emulator.heal_workload(registry.namespace, f"{registry.name}-core", kind="Deployment")
    kube_emulator.heal_workload(registry.namespace, f"{registry.name}-redis", kind="StatefulSet")
    assert reconcile(registry.pk).phase == Phase.READY


def test_a_converged_stack_reads_no_events(make_emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    kube_emulator.reset_stats()
    assert reconcile(registry.pk).phase == Phase.READY
    assert "Event" not in kube_emulator.stats()["by_kind"]


def test_a_quota_the_console_does_not_own_is_the_customers_move(make_emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    refuse_core_pods(kube_emulator, registry, "tenant-contract-limit")

    run = run_of(reconcile(registry.pk))

    assert (run.error_class, run.whose_move) == (ErrorClass.QUOTA_EXCEEDED, WhoseMove.CUSTOMER)
    assert "move it to a larger plan" in run.error_message
