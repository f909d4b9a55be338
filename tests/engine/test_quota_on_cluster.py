"""Pods a quota refuses, end to end: the engine reads the cluster's own words into "quota exceeded".

The emulator runs quota admission the way kube-apiserver does: a pod the controllers create over a ResourceQuota's
``hard`` is refused, the Deployment copies its ReplicaSet's refusal into ``ReplicaFailure`` and the StatefulSet
controller records a Warning ``FailedCreate`` Event. The tests make the refusal happen as it does on a real cluster
(someone else's pod eats the room, or a quota the console does not own is lower than the stack), then let the
controllers recreate the stack's pods. Events are read only while a StatefulSet is short of replicas: a converged
stack costs no Event request.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest
from kubernetes import client

from kubeemulator.quantities import format_quantity, parse
from provisioning.choices import CacheMode, ErrorClass, Phase, RunStatus, WhoseMove
from provisioning.models import CacheBinding
from provisioning.reconcile import reconcile
from tests import factories
from tests.engine.helpers import condition, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


def kubectl(kube_emulator) -> Any:
    """The core API as another actor sees it (plain dictionaries in and out of its calls)."""
    return client.CoreV1Api(someone_else(kube_emulator))


def headroom(kube_emulator, namespace: str, quota: str) -> dict[str, str]:
    """What is left of ``quota``'s limits, as the quota's status says."""
    status = kubectl(kube_emulator).read_namespaced_resource_quota(quota, namespace).status
    return {
        resource: format_quantity(parse(status.hard[resource]) - parse(status.used.get(resource, "0")))
        for resource in ("limits.cpu", "limits.memory")
    }


def container_ceiling(kube_emulator, namespace: str) -> dict[str, Decimal]:
    """The LimitRange's per-container maximum limits, by quota resource name."""
    [limit_range] = kube_emulator.objects("LimitRange", namespace)
    [limits] = [item for item in limit_range["spec"]["limits"] if item["type"] == "Container"]
    return {f"limits.{name}": parse(value) for name, value in limits["max"].items()}


def eat_the_room(kube_emulator, namespace: str, room: dict[str, str]) -> None:
    """Someone runs a debugging pod that takes what the quota had left (in as many containers as the range needs)."""
    ceiling = container_ceiling(kube_emulator, namespace)
    left = {resource: parse(value) for resource, value in room.items()}
    count = max(math.ceil(left[resource] / ceiling[resource]) for resource in left)
    containers = [
        {
            "name": f"shell-{index}",
            "image": "busybox:1.36",
            "resources": {
                "requests": {"cpu": "1m", "memory": "1Mi"},
                "limits": {
                    resource.removeprefix("limits."): format_quantity(left[resource] / count)
                    for resource in left
                },
            },
        }
        for index in range(count)
    ]
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "debug-shell", "namespace": namespace},
        "spec": {"containers": containers},
    }
    kubectl(kube_emulator).create_namespaced_pod(namespace, pod)


def delete_pods(kube_emulator, namespace: str, component: str) -> None:
    """Pods go away (a node drained): their controllers must create them again, through admission."""
    core: Any = kubectl(kube_emulator)
    for pod in kube_emulator.objects("Pod", namespace):
        if pod["metadata"].get("labels", {}).get("app.kubernetes.io/component") == component:
            core.delete_namespaced_pod(pod["metadata"]["name"], namespace)


def rollout_restart(kube_emulator, namespace: str, name: str) -> None:
    """``kubectl rollout restart``: a new template, so a new ReplicaSet that needs room for its surge pod."""
    restarted = {
        "spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}
    }
    client.AppsV1Api(someone_else(kube_emulator)).patch_namespaced_deployment(name, namespace, restarted)


def test_pods_refused_by_the_consoles_quota_are_quota_exceeded_the_providers_move(
    make_emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert CacheBinding.objects.get(registry=registry).mode == CacheMode.MANAGED
    assert reconcile(registry.pk).phase == Phase.READY
    [quota] = [obj["metadata"]["name"] for obj in kube_emulator.objects("ResourceQuota", registry.namespace)]
    eat_the_room(kube_emulator, registry.namespace, headroom(kube_emulator, registry.namespace, quota))
    rollout_restart(kube_emulator, registry.namespace, f"{registry.name}-core")
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
    # the old pods still serve (maxUnavailable 0): available, but the rollout is held by the quota
    assert condition(registry, "Available")["status"] == "True"
    progressing = condition(registry, "Progressing")
    assert (progressing["reason"], progressing["whose_move"]) == ("QuotaExceeded", WhoseMove.PROVIDER)
    assert f"core cannot create its pods (quota {quota} exceeded on limits.cpu" in progressing["message"]
    assert registry.phase == Phase.DEGRADED
    components = {c.kind: c for c in registry.components.all()}
    assert components["core"].message.startswith(f"Cannot create its pods: quota {quota} exceeded")
    assert "Event" not in kube_emulator.stats()["by_kind"]  # a Deployment says it in its conditions

    kubectl(kube_emulator).delete_namespaced_pod("debug-shell", registry.namespace)
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
    running = len(kube_emulator.objects("Pod", registry.namespace))
    contract: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "tenant-contract-limit", "namespace": registry.namespace},
        "spec": {"hard": {"pods": str(running - 1)}},
    }
    kubectl(kube_emulator).create_namespaced_resource_quota(registry.namespace, contract)
    delete_pods(kube_emulator, registry.namespace, "core")

    run = run_of(reconcile(registry.pk))

    assert (run.error_class, run.whose_move) == (ErrorClass.QUOTA_EXCEEDED, WhoseMove.CUSTOMER)
    assert "move it to a larger plan" in run.error_message
