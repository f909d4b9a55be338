"""Fields a real API server refuses to change once set: each refusal is a ``Cause`` of a 422 ``Invalid``.

Checked on every write that replaces a live object (PUT, patch, apply) after defaulting, with the field paths and
the wording of kube-apiserver's validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import quantities
from .errors import Cause

_STATEFUL_SET_MUTABLE = frozenset(
    {
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    }
)
STATEFUL_SET_MESSAGE = (
    "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' "
    "are forbidden"
)
CLAIM_MESSAGE = (
    "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for "
    "bound claims"
)


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _go_selector(selector: Any) -> str:
    """A label selector as Go prints it in kube-apiserver messages."""
    selector = selector if isinstance(selector, dict) else {}
    labels = selector.get("matchLabels") or {}
    pairs = ", ".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in sorted(labels.items()))
    expressions = selector.get("matchExpressions")
    shown = (
        "[]v1.LabelSelectorRequirement(nil)"
        if not expressions
        else f"[]v1.LabelSelectorRequirement{{{json.dumps(expressions)}}}"
    )
    return f"v1.LabelSelector{{MatchLabels:map[string]string{{{pairs}}}, MatchExpressions:{shown}}}"


def _immutable(field: str, shown: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {shown}: field is immutable", field)


def _selector(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    before, after = _spec(old).get("selector"), _spec(new).get("selector")
    if before == after:
        return []
    return [_immutable("spec.selector", _go_selector(after))]


def _stateful_set(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    before, after = _spec(old), _spec(new)
    fixed = {k for k in {**before, **after} if k not in _STATEFUL_SET_MUTABLE}
    if any(before.get(k) != after.get(k) for k in fixed):
        return [Cause("FieldValueForbidden", STATEFUL_SET_MESSAGE, "spec")]
    return []


def _job(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    causes = _selector(old, new)
    if _spec(old).get("template") != _spec(new).get("template"):
        causes.append(_immutable("spec.template", "core.PodTemplateSpec{...}"))
    if _spec(old).get("completions") != _spec(new).get("completions"):
        causes.append(_immutable("spec.completions", json.dumps(_spec(new).get("completions"))))
    return causes


def _service(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    before, after = _spec(old), _spec(new)
    if after.get("type") == "ExternalName" or not before.get("clusterIPs"):
        return []
    causes = []
    if before.get("clusterIPs") != after.get("clusterIPs"):
        shown = "[]string{" + ", ".join(json.dumps(ip) for ip in after.get("clusterIPs") or []) + "}"
        causes.append(
            Cause(
                "FieldValueInvalid", f"Invalid value: {shown}: may not change once set", "spec.clusterIPs[0]"
            )
        )
    elif before.get("clusterIP") != after.get("clusterIP"):
        causes.append(_immutable("spec.clusterIP", json.dumps(after.get("clusterIP", ""))))
    return causes


def _storage(spec: dict[str, Any]) -> Any:
    return ((spec.get("resources") or {}).get("requests") or {}).get("storage")


def _claim(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    before, after = _spec(old), _spec(new)

    def without_requests(spec: dict[str, Any]) -> dict[str, Any]:
        rest = {k: v for k, v in spec.items() if k not in ("resources", "volumeAttributesClassName")}
        resources = {k: v for k, v in (spec.get("resources") or {}).items() if k != "requests"}
        return {**rest, "resources": resources}

    if without_requests(before) != without_requests(after):
        return [Cause("FieldValueForbidden", CLAIM_MESSAGE, "spec")]
    old_size, new_size = _storage(before), _storage(after)
    if old_size is not None and new_size is not None:
        try:
            smaller = quantities.parse(new_size) < quantities.parse(old_size)
        except ValueError:
            return []
        if smaller:
            return [
                Cause(
                    "FieldValueForbidden",
                    "Forbidden: field can not be less than previous value",
                    "spec.resources.requests.storage",
                )
            ]
    return []


def _immutable_data(old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes = []
    if new.get("immutable") is not True:
        causes.append(
            Cause("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "immutable")
        )
    for field in ("data", "binaryData"):
        if old.get(field) != new.get(field):
            causes.append(
                Cause("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", field)
            )
    return causes


_RULES: dict[str, Callable[[dict[str, Any], dict[str, Any]], list[Cause]]] = {
    "Deployment": _selector,
    "ReplicaSet": _selector,
    "DaemonSet": _selector,
    "StatefulSet": _stateful_set,
    "Job": _job,
    "Service": _service,
    "PersistentVolumeClaim": _claim,
    "Secret": _immutable_data,
    "ConfigMap": _immutable_data,
}


def immutable_changes(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[Cause]:
    """What ``new`` changes that a real API server keeps as it was in ``old``."""
    rule = _RULES.get(kind)
    return rule(old, new) if rule is not None else []


def claim_expansion(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Does ``new`` ask for more storage than ``old``?"""
    old_size, new_size = _storage(_spec(old)), _storage(_spec(new))
    try:
        return (
            old_size is not None
            and new_size is not None
            and quantities.parse(new_size) > quantities.parse(old_size)
        )
    except ValueError:
        return False
