"""What a namespace must admit for a stack to run, derived from the rendered objects themselves.

Admission under a ResourceQuota counts every pod that exists, so the peak is what matters: every Deployment rolling at
once (a version upgrade changes every image) runs ``replicas + maxSurge`` pods, a StatefulSet at most ``replicas``
(it replaces pods one by one), a Job ``parallelism`` pods, and cert-manager's HTTP-01 solver one pod of its own when
the issuer solves HTTP-01. A pod counts the larger of its app containers' sum and any init container (a restartable
init container, a sidecar, adds to both). Claims count once per StatefulSet replica and template; a suspended stack
keeps its claims.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from provisioning.rendering.quantities import bytes_text, cpu_text, millicores, whole_bytes

SOLVER_LABEL = "acme.cert-manager.io/http01-solver"
SOLVER_PORT = 8089
SOLVER_RESOURCES: Mapping[str, Mapping[str, str]] = {
    "requests": {"cpu": "10m", "memory": "64Mi"},
    "limits": {"cpu": "100m", "memory": "64Mi"},
}
"""cert-manager's defaults for HTTP-01 solver pods (``--acme-http01-solver-resource-*``)."""

QUOTA_RESOURCES = ("cpu", "memory")
"""Resources the quota bounds in both requests and limits: every container must state each, both ways."""


@dataclass(frozen=True, slots=True)
class Requirements:
    """What a namespace must admit at its peak: CPU in millicores, memory and storage in bytes."""

    cpu_requests: int = 0
    cpu_limits: int = 0
    memory_requests: int = 0
    memory_limits: int = 0
    pods: int = 0
    storage: int = 0
    claims: int = 0

    def __add__(self, other: Requirements) -> Requirements:
        return Requirements(
            self.cpu_requests + other.cpu_requests,
            self.cpu_limits + other.cpu_limits,
            self.memory_requests + other.memory_requests,
            self.memory_limits + other.memory_limits,
            self.pods + other.pods,
            self.storage + other.storage,
            self.claims + other.claims,
        )

    def times(self, count: int) -> Requirements:
        return Requirements(
            self.cpu_requests * count,
            self.cpu_limits * count,
            self.memory_requests * count,
            self.memory_limits * count,
            self.pods * count,
            self.storage * count,
            self.claims * count,
        )

    def hard(self) -> dict[str, str]:
        """The ResourceQuota's ``spec.hard``."""
        return {
            "requests.cpu": cpu_text(self.cpu_requests),
            "limits.cpu": cpu_text(self.cpu_limits),
            "requests.memory": bytes_text(self.memory_requests),
            "limits.memory": bytes_text(self.memory_limits),
            "pods": str(self.pods),
            "requests.storage": bytes_text(self.storage),
            "persistentvolumeclaims": str(self.claims),
        }


def container_requirements(container: Mapping[str, Any]) -> Requirements:
    """One container's requests and limits; ``ValueError`` when it leaves a quota'd resource unstated."""
    stated = container.get("resources") or {}
    values: list[str] = []
    for kind in ("requests", "limits"):
        for resource in QUOTA_RESOURCES:
            value = (stated.get(kind) or {}).get(resource)
            if value is None:
                raise ValueError(
                    f"container {container.get('name')!r} states no {kind}.{resource}: under a ResourceQuota "
                    "a real API server refuses its pod."
                )
            values.append(value)
    return _container(*values)


@lru_cache(maxsize=1024)
def _container(cpu_request: str, memory_request: str, cpu_limit: str, memory_limit: str) -> Requirements:
    return Requirements(
        cpu_requests=millicores(cpu_request),
        cpu_limits=millicores(cpu_limit),
        memory_requests=whole_bytes(memory_request),
        memory_limits=whole_bytes(memory_limit),
    )


def _max(first: Requirements, second: Requirements) -> Requirements:
    return Requirements(
        max(first.cpu_requests, second.cpu_requests),
        max(first.cpu_limits, second.cpu_limits),
        max(first.memory_requests, second.memory_requests),
        max(first.memory_limits, second.memory_limits),
        max(first.pods, second.pods),
        max(first.storage, second.storage),
        max(first.claims, second.claims),
    )


def pod_requirements(pod_spec: Mapping[str, Any]) -> Requirements:
    """One pod: the larger of the app containers' sum and each init container (sidecars add to both)."""
    sidecars = Requirements()
    init_peak = Requirements()
    for init in pod_spec.get("initContainers", ()):
        needed = container_requirements(init)
        if init.get("restartPolicy") == "Always":
            sidecars = sidecars + needed
        else:
            init_peak = _max(init_peak, sidecars + needed)
    running = sidecars
    for app in pod_spec["containers"]:
        running = running + container_requirements(app)
    return _max(init_peak, running) + Requirements(pods=1)


def _surge(deployment_spec: Mapping[str, Any], replicas: int) -> int:
    strategy = deployment_spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)


def peak_pods(obj: Mapping[str, Any]) -> int:
    """How many pods of a pod-producing object can exist at once (0 for other kinds)."""
    kind, spec = obj["kind"], obj.get("spec") or {}
    if kind == "Deployment":
        replicas = spec.get("replicas", 1)
        return replicas + _surge(spec, replicas) if replicas > 0 else 0
    if kind == "StatefulSet":
        return int(spec.get("replicas", 1))
    if kind == "Job":
        parallelism = int(spec.get("parallelism", 1))
        completions = spec.get("completions")
        return min(parallelism, int(completions)) if completions is not None else parallelism
    if kind == "Pod":
        return 1
    return 0


def claim_requirements(obj: Mapping[str, Any], replicas: int) -> Requirements:
    """The volume claims a StatefulSet's templates create for ``replicas`` pods."""
    storage = sum(
        whole_bytes(template["spec"]["resources"]["requests"]["storage"])
        for template in obj["spec"].get("volumeClaimTemplates", ())
    )
    count = len(obj["spec"].get("volumeClaimTemplates", ()))
    return Requirements(storage=storage * replicas, claims=count * replicas)


def required_quota(
    objects: Iterable[Mapping[str, Any]],
    *,
    retained: Iterable[Mapping[str, Any]] | None = None,
    http01_solver: bool = False,
) -> Requirements:
    """The peak of ``objects``: every pod-producing object at its rollout peak, plus the solver when asked.

    ``retained``: the StatefulSets whose claims exist though ``objects`` scale them to zero (a suspended stack's
    running render); by default the claims of ``objects`` themselves.
    """
    total = Requirements()
    workloads = list(objects)
    for obj in workloads:
        count = peak_pods(obj)
        if count:
            pod_spec = obj["spec"]["template"]["spec"] if obj["kind"] != "Pod" else obj["spec"]
            total = total + pod_requirements(pod_spec).times(count)
    for obj in workloads if retained is None else retained:
        if obj["kind"] == "StatefulSet":
            total = total + claim_requirements(obj, int(obj["spec"].get("replicas", 1)))
    if http01_solver:
        total = total + pod_requirements(
            {"containers": [{"name": "acmesolver", "resources": SOLVER_RESOURCES}]}
        )
    return total


def largest_container(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """The largest CPU and memory limit of any container among ``objects`` (and the solver's)."""
    cpu, memory = (
        millicores(SOLVER_RESOURCES["limits"]["cpu"]),
        whole_bytes(SOLVER_RESOURCES["limits"]["memory"]),
    )
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet", "Job"):
            pod_spec = obj["spec"]["template"]["spec"]
            for item in (*pod_spec.get("initContainers", ()), *pod_spec["containers"]):
                needed = container_requirements(item)
                cpu, memory = max(cpu, needed.cpu_limits), max(memory, needed.memory_limits)
    return {"cpu": cpu_text(cpu), "memory": bytes_text(memory)}
