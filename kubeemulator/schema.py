"""The structure server-side apply and strategic merge patch rely on: which lists merge by key, which are sets,
which objects are atomic (replaced whole), per kind.

This is the subset of the OpenAPI markers (``x-kubernetes-list-type``, ``x-kubernetes-list-map-keys``,
``x-kubernetes-map-type``, ``+structType=atomic``) and of the strategic-merge ``patchMergeKey`` tags that the kinds
of a Harbor stack use. A list not named here is atomic, as a real API server treats a list without markers.

Fields are named by *type paths*: dotted field names from the object's root with ``[]`` for "an item of the list",
e.g. ``spec.template.spec.containers[].env``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ListType:
    """A list that merges item by item: by ``keys`` (``listType=map``) or, with no keys, by value (``set``)."""

    keys: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Values of key fields an item may omit (a container port's ``protocol`` is ``TCP``)."""

    @property
    def is_set(self) -> bool:
        return not self.keys


@dataclass(frozen=True)
class Schema:
    lists: Mapping[str, ListType]
    atomic: frozenset[str]
    """Type paths of objects that are replaced whole (label selectors, key references)."""
    merge_keys: Mapping[str, str]
    """Strategic merge patch: type path of a list → its ``patchMergeKey`` (``""`` merges primitives as a set)."""

    def list_type(self, type_path: str) -> ListType | None:
        """How the list at ``type_path`` merges; ``None`` when it is atomic."""
        return self.lists.get(type_path)

    def is_atomic(self, type_path: str) -> bool:
        return type_path in self.atomic


def child(type_path: str, name: str) -> str:
    return f"{type_path}.{name}" if type_path else name


def item(type_path: str) -> str:
    return f"{type_path}[]"


_TCP = {"protocol": "TCP"}
_CONTAINER_LISTS: dict[str, ListType] = {
    "env": ListType(("name",)),
    "ports": ListType(("containerPort", "protocol"), _TCP),
    "volumeMounts": ListType(("mountPath",)),
    "volumeDevices": ListType(("devicePath",)),
}
_CONTAINER_MERGE_KEYS = {
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
}
_CONTAINER_ATOMIC = (
    "env[].valueFrom.secretKeyRef",
    "env[].valueFrom.configMapKeyRef",
    "env[].valueFrom.fieldRef",
    "env[].valueFrom.resourceFieldRef",
)
_POD_LISTS: dict[str, ListType] = {
    "volumes": ListType(("name",)),
    "imagePullSecrets": ListType(("name",)),
    "hostAliases": ListType(("ip",)),
    "topologySpreadConstraints": ListType(("topologyKey", "whenUnsatisfiable")),
    "resourceClaims": ListType(("name",)),
    "schedulingGates": ListType(("name",)),
}
_POD_MERGE_KEYS = {
    "volumes": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
}
_CONTAINERS = ("containers", "initContainers", "ephemeralContainers")


def _pod_rules(prefix: str) -> tuple[dict[str, ListType], set[str], dict[str, str]]:
    lists = {f"{prefix}{name}": rule for name, rule in _POD_LISTS.items()}
    keys = {f"{prefix}{name}": key for name, key in _POD_MERGE_KEYS.items()}
    atomic: set[str] = set()
    for containers in _CONTAINERS:
        lists[f"{prefix}{containers}"] = ListType(("name",))
        keys[f"{prefix}{containers}"] = "name"
        for name, rule in _CONTAINER_LISTS.items():
            lists[f"{prefix}{containers}[].{name}"] = rule
        for name, key in _CONTAINER_MERGE_KEYS.items():
            keys[f"{prefix}{containers}[].{name}"] = key
        atomic |= {f"{prefix}{containers}[].{path}" for path in _CONTAINER_ATOMIC}
    return lists, atomic, keys


_CONDITIONS = ListType(("type",))


def _build(
    pod_prefix: str | None = None,
    lists: Mapping[str, ListType] | None = None,
    atomic: tuple[str, ...] = (),
    merge_keys: Mapping[str, str] | None = None,
) -> Schema:
    all_lists: dict[str, ListType] = {
        "metadata.finalizers": ListType(),
        "metadata.ownerReferences": ListType(("uid",)),
        "status.conditions": _CONDITIONS,
    }
    all_keys: dict[str, str] = {
        "metadata.finalizers": "",
        "metadata.ownerReferences": "uid",
        "status.conditions": "type",
    }
    all_atomic = set(atomic)
    if pod_prefix is not None:
        pod_lists, pod_atomic, pod_keys = _pod_rules(pod_prefix)
        all_lists |= pod_lists
        all_atomic |= pod_atomic
        all_keys |= pod_keys
    all_lists |= dict(lists or {})
    all_keys |= dict(merge_keys or {})
    return Schema(all_lists, frozenset(all_atomic), all_keys)


_TEMPLATE = "spec.template.spec."
_SELECTOR = ("spec.selector",)
_SERVICE_PORTS = ListType(("port", "protocol"), _TCP)

SCHEMAS: Mapping[str, Schema] = {
    "Pod": _build("spec."),
    "Deployment": _build(_TEMPLATE, atomic=_SELECTOR),
    "ReplicaSet": _build(_TEMPLATE, atomic=_SELECTOR),
    "DaemonSet": _build(_TEMPLATE, atomic=_SELECTOR),
    "StatefulSet": _build(_TEMPLATE, atomic=_SELECTOR),
    "Job": _build(_TEMPLATE, atomic=_SELECTOR),
    "Service": _build(lists={"spec.ports": _SERVICE_PORTS}, merge_keys={"spec.ports": "port"}),
    "PodDisruptionBudget": _build(atomic=_SELECTOR),
    "NetworkPolicy": _build(atomic=("spec.podSelector",)),
}
DEFAULT_SCHEMA = _build()


def schema_for(kind: str) -> Schema:
    return SCHEMAS.get(kind, DEFAULT_SCHEMA)
