"""Admission of pods and claims in a namespace: LimitRange defaults and bounds, then ResourceQuota.

As the ``LimitRanger`` and ``ResourceQuota`` admission plugins do, in that order:

1. each container missing a limit or a request gets the namespace's LimitRange ``default`` / ``defaultRequest``
   (the pod is annotated ``kubernetes.io/limit-ranger``); a limit above ``max`` or a request below ``min`` is refused;
2. a quota on ``requests.*`` / ``limits.*`` (or ``cpu`` / ``memory``) refuses a pod whose containers do not all state
   that resource ("must specify ..."); then the pod's usage added to what the namespace already uses must stay
   within every quota's ``hard``, or the pod is refused with "exceeded quota: <name>, requested: ..., used: ...,
   limited: ...".

A pod's usage: 1 of ``pods`` and, per resource, the larger of the sum of its app containers and its largest init
container. Pods that finished (``Succeeded``/``Failed``) use nothing. Claims use ``persistentvolumeclaims`` and
``requests.storage`` (also per storage class); any namespaced object uses its ``count/<resource>`` and the legacy
counted names (``services``, ``secrets``, ``configmaps``...). Quota scopes and priority classes are not modelled.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from . import quantities
from .errors import ApiError
from .kinds import Kind

_COMPUTE = ("cpu", "memory", "ephemeral-storage")
_MUST_SPECIFY = frozenset({"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "cpu", "memory"})
_LEGACY_COUNTS = {
    "Service": "services",
    "Secret": "secrets",
    "ConfigMap": "configmaps",
    "PersistentVolumeClaim": "persistentvolumeclaims",
    "ResourceQuota": "resourcequotas",
    "Pod": "pods",
}
LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger"


def _amount(resources: Mapping[str, Any] | None, name: str) -> Decimal | None:
    value = (resources or {}).get(name)
    if value is None:
        return None
    try:
        return quantities.parse(value)
    except ValueError:
        return None


def _containers(pod: dict[str, Any], group: str) -> list[dict[str, Any]]:
    return [c for c in (pod.get("spec") or {}).get(group) or [] if isinstance(c, dict)]


def apply_limit_ranges(pod: dict[str, Any], ranges: Iterable[dict[str, Any]], name: str) -> None:
    """Fill the pod's missing requests and limits from the LimitRanges; refuse what breaks their bounds (403)."""
    set_by: list[str] = []
    for limit_range in ranges:
        for limit in (limit_range.get("spec") or {}).get("limits") or []:
            if not isinstance(limit, dict) or limit.get("type") != "Container":
                continue
            for container in _containers(pod, "initContainers") + _containers(pod, "containers"):
                resources = container.setdefault("resources", {})
                filled: dict[str, list[str]] = {}
                for kind, source in (("requests", "defaultRequest"), ("limits", "default")):
                    for resource, value in (limit.get(source) or {}).items():
                        bucket = resources.get(kind) or {}
                        if resource not in bucket:
                            resources[kind] = {**bucket, resource: value}
                            filled.setdefault(kind, []).append(resource)
                for kind, word in (("requests", "request"), ("limits", "limit")):
                    if filled.get(kind):
                        names = ", ".join(sorted(filled[kind]))
                        set_by.append(f"{names} {word} for container {container.get('name', '')}")
                _check_bounds(limit, container, name)
    if set_by:
        annotations = pod["metadata"].setdefault("annotations", {})
        annotations[LIMIT_RANGER_ANNOTATION] = "LimitRanger plugin set: " + "; ".join(set_by)


def _check_bounds(limit: dict[str, Any], container: dict[str, Any], name: str) -> None:
    resources = container.get("resources") or {}
    for bound_kind, kind, word, beyond in (
        ("max", "limits", "limit", lambda value, bound: value > bound),
        ("min", "requests", "request", lambda value, bound: value < bound),
    ):
        edge = "maximum" if bound_kind == "max" else "minimum"
        for resource, bound in (limit.get(bound_kind) or {}).items():
            value = _amount(resources.get(kind), resource)
            if value is None:
                why = f"{edge} {resource} usage per Container is {bound}.  No {word} is specified"
                raise _pod_forbidden(name, why)
            if beyond(value, quantities.parse(bound)):
                shown = resources[kind][resource]
                raise _pod_forbidden(
                    name, f"{edge} {resource} usage per Container is {bound}, but {word} is {shown}"
                )


def _pod_forbidden(name: str, why: str) -> ApiError:
    return ApiError(403, f'pods "{name}" is forbidden: {why}', "Forbidden", {"name": name, "kind": "pods"})


def pod_usage(pod: dict[str, Any]) -> dict[str, Decimal]:
    """What a pod counts against quotas (nothing once it finished)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return {}
    usage: dict[str, Decimal] = {"pods": Decimal(1), "count/pods": Decimal(1)}
    for kind in ("requests", "limits"):
        for resource in _COMPUTE:
            total = sum(
                (_amount((c.get("resources") or {}).get(kind), resource) or Decimal(0))
                for c in _containers(pod, "containers")
            )
            init = max(
                (
                    (_amount((c.get("resources") or {}).get(kind), resource) or Decimal(0))
                    for c in _containers(pod, "initContainers")
                ),
                default=Decimal(0),
            )
            amount = max(total, init)
            if amount:
                usage[f"{kind}.{resource}"] = amount
                if kind == "requests":
                    usage[resource] = amount
    return usage


def claim_usage(claim: dict[str, Any]) -> dict[str, Decimal]:
    size = _amount(((claim.get("spec") or {}).get("resources") or {}).get("requests"), "storage") or Decimal(
        0
    )
    usage = {
        "persistentvolumeclaims": Decimal(1),
        "count/persistentvolumeclaims": Decimal(1),
        "requests.storage": size,
    }
    storage_class = (claim.get("spec") or {}).get("storageClassName")
    if storage_class:
        prefix = f"{storage_class}.storageclass.storage.k8s.io"
        usage[f"{prefix}/persistentvolumeclaims"] = Decimal(1)
        usage[f"{prefix}/requests.storage"] = size
    return usage


def object_usage(kind: Kind, obj: dict[str, Any]) -> dict[str, Decimal]:
    """What one object of ``kind`` counts against quotas (remembered per object version)."""
    metadata = obj.get("metadata") or {}
    version = (str(metadata.get("uid", "")), str(metadata.get("resourceVersion", "")))
    cached = _USAGE.get(version[0])
    if version[1] and cached is not None and cached[0] == version[1]:
        return cached[1]
    usage = _object_usage(kind, obj)
    if version[1]:
        if len(_USAGE) >= _USAGE_SIZE:
            _USAGE.pop(next(iter(_USAGE)))
        _USAGE[version[0]] = (version[1], usage)
    return usage


_USAGE: dict[str, tuple[str, dict[str, Decimal]]] = {}
_USAGE_SIZE = 65_536


def _object_usage(kind: Kind, obj: dict[str, Any]) -> dict[str, Decimal]:
    if kind.kind == "Pod":
        return pod_usage(obj)
    if kind.kind == "PersistentVolumeClaim":
        return claim_usage(obj)
    usage = {f"count/{kind.qualified_plural}": Decimal(1)}
    if kind.kind in _LEGACY_COUNTS:
        usage[_LEGACY_COUNTS[kind.kind]] = Decimal(1)
    if kind.kind == "Service":
        service_type = (obj.get("spec") or {}).get("type")
        if service_type == "LoadBalancer":
            usage["services.loadbalancers"] = Decimal(1)
        if service_type in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = Decimal(len((obj.get("spec") or {}).get("ports") or []))
    return usage


def add(total: dict[str, Decimal], usage: Mapping[str, Decimal]) -> None:
    for resource, amount in usage.items():
        total[resource] = total.get(resource, Decimal(0)) + amount


def _shown(resource: str, amount: Decimal) -> str:
    binary = resource.endswith(("memory", "storage"))
    return f"{resource}={quantities.format_quantity(amount, binary=binary and amount % 1024 == 0)}"


def format_usage(resource: str, amount: Decimal) -> str:
    return _shown(resource, amount).split("=", 1)[1]


def check_quotas(
    kind: Kind,
    name: str,
    obj: dict[str, Any],
    delta: Mapping[str, Decimal],
    quotas: Iterable[dict[str, Any]],
    used: Mapping[str, Decimal],
) -> None:
    """Refuse (403) an object whose usage ``delta`` does not fit every quota, or a pod that omits a quota'd resource."""
    for quota in sorted(quotas, key=lambda q: q["metadata"]["name"]):
        hard = (quota.get("spec") or {}).get("hard") or {}
        quota_name = quota["metadata"]["name"]
        if kind.kind == "Pod" and delta:
            missing = _missing(obj, set(hard) & _MUST_SPECIFY)
            if missing:
                raise ApiError.forbidden(kind, name, f"failed quota: {quota_name}: must specify {missing}")
        exceeded = []
        for resource, limit in sorted(hard.items()):
            amount = delta.get(resource)
            if not amount:
                continue
            try:
                ceiling = quantities.parse(limit)
            except ValueError:
                continue
            if used.get(resource, Decimal(0)) + amount > ceiling:
                exceeded.append((resource, amount, used.get(resource, Decimal(0)), ceiling))
        if exceeded:
            requested = ",".join(_shown(r, a) for r, a, _, _ in exceeded)
            current = ",".join(_shown(r, u) for r, _, u, _ in exceeded)
            limited = ",".join(_shown(r, c) for r, _, _, c in exceeded)
            why = f"exceeded quota: {quota_name}, requested: {requested}, used: {current}, limited: {limited}"
            raise ApiError.forbidden(kind, name, why)


def _missing(pod: dict[str, Any], required: set[str]) -> str:
    """``limits.cpu for: core,portal; requests.memory for: core`` for what the containers leave out."""
    missing: dict[str, set[str]] = {}
    for container in _containers(pod, "initContainers") + _containers(pod, "containers"):
        resources = container.get("resources") or {}
        for resource in required:
            kind, _, name = resource.rpartition(".")
            bucket = resources.get(kind or "requests") or {}
            if name not in bucket:
                missing.setdefault(resource, set()).add(str(container.get("name", "")))
    return "; ".join(
        f"{resource} for: {','.join(sorted(names))}" for resource, names in sorted(missing.items())
    )


def quota_status(quota: dict[str, Any], used: Mapping[str, Decimal]) -> dict[str, Any]:
    hard = dict((quota.get("spec") or {}).get("hard") or {})
    return {"hard": hard, "used": {r: format_usage(r, used.get(r, Decimal(0))) for r in hard}}
