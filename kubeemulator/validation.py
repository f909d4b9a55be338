"""The few validations of the apiserver that catch real mistakes in rendered objects.

Names (DNS-1123 subdomain or label, per kind), label keys and values, annotation keys, string-only label,
annotation and ConfigMap values, base64 Secret data, apps/v1 selectors that must select their own template, and
Ingress paths without ``pathType``. Schemas of specs are not checked here: validate rendered manifests with
``kubernetes-validate`` for that. Immutable fields are in ``immutability``.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .errors import ApiError, Cause
from .kinds import Kind

_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _name_problem(kind: Kind, name: str) -> str | None:
    if kind.name_format == "path":
        if name in (".", "..") or "/" in name or "%" in name:
            return f"may not be '.' or '..' and may not contain '/' or '%': {name!r}"
        return None
    if kind.name_format == "label":
        if len(name) > 63 or not _LABEL.match(name):
            return (
                f"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                f"start and end with an alphanumeric character and be at most 63 characters: {name!r}"
            )
        return None
    if len(name) > 253 or not _SUBDOMAIN.match(name):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
            f"and must start and end with an alphanumeric character: {name!r}"
        )
    return None


def _key_problem(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _SUBDOMAIN.match(prefix)):
        return f"prefix part of {key!r} must be a DNS-1123 subdomain"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"name part of {key!r} must be at most 63 alphanumeric characters, '-', '_' or '.'"
    return None


def _string_map(field: str, value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ApiError(
            400,
            f"json: cannot unmarshal {type(value).__name__} into {field} of type map[string]string",
        )
    for key, item in value.items():
        if not isinstance(item, str):
            raise ApiError(
                400,
                f"json: cannot unmarshal {type(item).__name__} into {field}[{key!r}] of type string",
            )
    return value


def _invalid(field: str, why: str) -> Cause:
    return Cause("FieldValueInvalid", f"Invalid value: {why}", field)


def _selector_problems(kind: Kind, obj: dict[str, Any]) -> list[Cause]:
    """A workload's selector must exist and select its own pod template (apps/v1)."""
    if kind.group != "apps":
        return []
    spec = obj.get("spec") or {}
    selector = spec.get("selector")
    if not isinstance(selector, dict) or not (
        selector.get("matchLabels") or selector.get("matchExpressions")
    ):
        return [Cause("FieldValueRequired", "Required value", "spec.selector")]
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    wanted = selector.get("matchLabels") or {}
    if any(labels.get(key) != value for key, value in wanted.items()):
        shown = "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
        return [
            _invalid("spec.template.metadata.labels", f"{shown}: `selector` does not match template `labels`")
        ]
    return []


def _ingress_problems(obj: dict[str, Any]) -> list[Cause]:
    causes = []
    for r, rule in enumerate((obj.get("spec") or {}).get("rules") or []):
        for p, path in enumerate(((rule or {}).get("http") or {}).get("paths") or []):
            if not (path or {}).get("pathType"):
                field = f"spec.rules[{r}].http.paths[{p}].pathType"
                causes.append(
                    Cause("FieldValueRequired", "Required value: pathType must be specified", field)
                )
    return causes


def validate(kind: Kind, obj: dict[str, Any]) -> None:
    """Raise a 400 (undecodable) or 422 (invalid) for what a real apiserver would refuse."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise ApiError(400, "metadata must be an object")
    name = str(metadata.get("name", ""))
    causes: list[Cause] = []
    if problem := _name_problem(kind, name):
        causes.append(_invalid("metadata.name", problem))
    for key, value in _string_map("metadata.labels", metadata.get("labels")).items():
        if problem := _key_problem(key):
            causes.append(_invalid("metadata.labels", problem))
        if len(value) > 63 or not _LABEL_VALUE.match(value):
            causes.append(
                _invalid("metadata.labels", f"{value!r}: must be at most 63 alphanumeric, '-', '_' or '.'")
            )
    for key in _string_map("metadata.annotations", metadata.get("annotations")):
        if problem := _key_problem(key):
            causes.append(_invalid("metadata.annotations", problem))
    if kind.kind in ("ConfigMap", "Secret"):
        _string_map("data", obj.get("data"))
    if kind.kind == "Secret":
        _string_map("stringData", obj.get("stringData"))
        for key, value in (obj.get("data") or {}).items():
            try:
                base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise ApiError(400, f"illegal base64 data in Secret data[{key!r}]") from None
    causes += _selector_problems(kind, obj)
    if kind.kind == "Ingress":
        causes += _ingress_problems(obj)
    if causes:
        raise ApiError.invalid(kind, name, causes)
