"""Quota invariants over the whole matrix: what a real API server's ResourceQuota admission would do.

An admission model written here, independent of rendering's arithmetic (quantities parsed by the official client):
every container must state requests and limits of CPU and memory; at the peak every Deployment rolls at once
(``replicas + maxSurge`` pods, the strategy stated explicitly), every StatefulSet runs its replicas, every Job its
parallelism, and cert-manager's solver one pod; a pod counts max(any init container, sum of app containers). Every
pod of that peak must be admitted, one by one, and the quota must be exactly that peak (so it also bounds the
namespace). Claims are counted from the running render (a suspended stack keeps them).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import pytest
from kubernetes.utils import parse_quantity

from provisioning.rendering import required_quota, stack_requirements
from tests.rendering.matrix import MATRIX, Point, matrix_objects, matrix_spec, seeded_plan
from tests.rendering.specs import build_spec

RESOURCES = ("cpu", "memory")
SOLVER = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}


def _container_usage(container: dict[str, Any]) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    usage = {}
    for kind in ("requests", "limits"):
        for resource in RESOURCES:
            value = (resources.get(kind) or {}).get(resource)
            assert value is not None, f"container {container['name']} states no {kind}.{resource}"
            usage[f"{kind}.{resource}"] = parse_quantity(value)
    return usage


def _pod_usage(pod: dict[str, Any]) -> dict[str, Decimal]:
    apps = [_container_usage(item) for item in pod["containers"]]
    inits = [_container_usage(item) for item in pod.get("initContainers", ())]
    return {
        key: max([sum((app[key] for app in apps), Decimal(0)), *(init[key] for init in inits)])
        for key in apps[0]
    }


def _peak_pods(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec") or {}
    if obj["kind"] == "Deployment":
        rolling = spec["strategy"]["rollingUpdate"]
        assert spec["strategy"]["type"] == "RollingUpdate"
        assert {"maxSurge", "maxUnavailable"} <= set(rolling), "the rollout must be stated, not defaulted"
        surge = rolling["maxSurge"]
        if isinstance(surge, str):
            surge = math.ceil(spec["replicas"] * int(surge.rstrip("%")) / 100)
        count = spec["replicas"] + surge if spec["replicas"] else 0
    elif obj["kind"] == "StatefulSet":
        count = spec["replicas"]
    elif obj["kind"] == "Job":
        count = spec.get("parallelism", 1)
    else:
        return []
    return [spec["template"]["spec"]] * count


def _claims(objects: Iterable[dict[str, Any]]) -> tuple[int, Decimal]:
    count, storage = 0, Decimal(0)
    for obj in objects:
        if obj["kind"] == "StatefulSet":
            for template in obj["spec"]["volumeClaimTemplates"]:
                count += obj["spec"]["replicas"]
                storage += obj["spec"]["replicas"] * parse_quantity(
                    template["spec"]["resources"]["requests"]["storage"]
                )
    return count, storage


def _admit_peak(objects: list[dict[str, Any]], running: list[dict[str, Any]], solver: bool) -> None:
    quota = next(obj for obj in objects if obj["kind"] == "ResourceQuota")["spec"]["hard"]
    hard = {key: parse_quantity(value) for key, value in quota.items()}
    pods = [pod for obj in objects for pod in _peak_pods(obj)]
    if solver:
        pods.append({"containers": [{"name": "acmesolver", "resources": SOLVER}]})
    used = {key: Decimal(0) for key in ("requests.cpu", "limits.cpu", "requests.memory", "limits.memory")}
    for index, pod in enumerate(pods):
        for key, value in _pod_usage(pod).items():
            used[key] += value
            assert used[key] <= hard[key], (
                f"pod {index + 1} of the peak is refused: {key} {used[key]} > {hard[key]}"
            )
        assert index + 1 <= hard["pods"]
    assert used == {key: hard[key] for key in used}, "the quota is not the stack's peak"
    assert hard["pods"] == len(pods)
    claims, storage = _claims(running)
    assert (hard["persistentvolumeclaims"], hard["requests.storage"]) == (claims, storage)


def test_every_stack_of_the_matrix_is_admitted_at_its_peak_and_fits_its_plan() -> None:
    for point in MATRIX:
        objects = matrix_objects(point)
        running = matrix_objects((*point[:5], False))
        _admit_peak(objects, running, solver=True)
        plan = seeded_plan(point[1])
        hard = next(obj for obj in objects if obj["kind"] == "ResourceQuota")["spec"]["hard"]
        assert parse_quantity(hard["limits.cpu"]) <= parse_quantity(plan.namespace_cpu_limit), point
        assert parse_quantity(hard["limits.memory"]) <= parse_quantity(plan.namespace_memory_limit), point


def test_every_container_states_requests_within_limits_and_the_limit_range_admits_the_solver() -> None:
    for point in MATRIX[:: len(MATRIX) // 48]:
        objects = matrix_objects(point)
        limit_range = next(obj for obj in objects if obj["kind"] == "LimitRange")["spec"]["limits"][0]
        ceiling = {resource: parse_quantity(limit_range["max"][resource]) for resource in RESOURCES}
        containers = [
            container
            for obj in objects
            if obj["kind"] in ("Deployment", "StatefulSet")
            for container in obj["spec"]["template"]["spec"]["containers"]
        ]
        containers.append({"name": "acmesolver", "resources": SOLVER})
        for container in containers:
            usage = _container_usage(container)
            for resource in RESOURCES:
                assert usage[f"requests.{resource}"] <= usage[f"limits.{resource}"], container["name"]
                assert usage[f"limits.{resource}"] <= ceiling[resource], container["name"]


def test_without_the_http01_solver_there_is_no_room_for_it() -> None:
    point: Point = ("2.15.2", "m", True, "managed", True, False)
    objects = matrix_objects(point, acme_http01=False)
    _admit_peak(objects, objects, solver=False)


def test_a_rendered_job_counts_like_any_other_pod() -> None:
    objects = matrix_objects(("2.15.2", "m", True, "managed", True, False))
    workloads = [obj for obj in objects if obj["kind"] in ("Deployment", "StatefulSet")]
    core = next(obj for obj in workloads if obj["metadata"]["name"] == "harbor-core")
    migration = {
        "kind": "Job",
        "spec": {"parallelism": 2, "template": core["spec"]["template"]},
    }
    before = required_quota(workloads)
    after = required_quota([*workloads, migration])
    container = core["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert after.pods - before.pods == 2
    assert after.cpu_limits - before.cpu_limits == 2 * int(parse_quantity(container["limits"]["cpu"]) * 1000)


def test_an_init_container_counts_when_it_is_the_larger() -> None:
    big_init = {
        "name": "init",
        "resources": {"requests": {"cpu": "3", "memory": "1Gi"}, "limits": {"cpu": "4", "memory": "2Gi"}},
    }
    app = {
        "name": "app",
        "resources": {"requests": {"cpu": "1", "memory": "3Gi"}, "limits": {"cpu": "1", "memory": "3Gi"}},
    }
    pod = {"kind": "Job", "spec": {"template": {"spec": {"initContainers": [big_init], "containers": [app]}}}}
    needs = required_quota([pod])
    assert (needs.cpu_requests, needs.cpu_limits) == (3000, 4000)
    assert (needs.memory_requests, needs.memory_limits) == (3 * 2**30, 3 * 2**30)


def test_a_container_without_limits_is_refused_by_name() -> None:
    naked = {
        "kind": "Job",
        "spec": {"template": {"spec": {"containers": [{"name": "naked", "resources": {}}]}}},
    }
    with pytest.raises(ValueError, match=r"'naked' states no requests\.cpu"):
        required_quota([naked])


def test_the_seeded_plans_did_not_fit_their_old_quota() -> None:
    """The fault of issue #10 point 1, kept visible: M and L needed more than the old 8 CPU / 16 GiB."""
    needs = {name: seeded_plan(name).largest_registry_needs() for name in ("s", "m", "l")}
    assert needs["s"].cpu_limits <= 8000
    assert needs["m"].cpu_limits > 8000
    assert needs["l"].cpu_limits > 8000 and needs["l"].memory_limits > 16 * 2**30


def test_stack_requirements_is_what_the_quota_says() -> None:
    spec = matrix_spec(("2.14.4", "l", True, "managed", True, False))
    objects = matrix_objects(("2.14.4", "l", True, "managed", True, False))
    quota = next(obj for obj in objects if obj["kind"] == "ResourceQuota")["spec"]["hard"]
    assert stack_requirements(spec).hard() == quota
    assert stack_requirements(build_spec()).pods == 13
