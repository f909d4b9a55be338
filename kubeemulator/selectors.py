"""Label and field selectors with the apiserver's syntax.

Labels: ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, ``k>1``, ``k<1``;
requirements are separated by commas and must all hold. Fields: ``metadata.name`` and ``metadata.namespace``
(plus the few per-kind labels of ``Kind.field_labels``) with ``=``, ``==`` and ``!=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import ApiError
from .kinds import Kind

Matcher = Callable[[Mapping[str, str]], bool]

_KEY = r"[A-Za-z0-9][A-Za-z0-9_./-]*"
_VALUE = r"[A-Za-z0-9_.-]*"
_EXISTS = re.compile(rf"^(!?)\s*({_KEY})$")
_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\((.*)\)$")
_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_NUMERIC = re.compile(rf"^({_KEY})\s*([<>])\s*(-?\d+)$")
_FIELD = re.compile(r"^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$")


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def _requirement(text: str) -> Matcher:
    if match := _SET.match(text):
        key, operator, raw = match.groups()
        values = {v.strip() for v in raw.split(",") if v.strip()}
        if not values or not all(re.fullmatch(_VALUE, v) for v in values):
            raise ApiError(
                400, f"unable to parse requirement: values for {operator!r} must be a non-empty list"
            )
        if operator == "in":
            return lambda labels: key in labels and labels[key] in values
        return lambda labels: key not in labels or labels[key] not in values
    if match := _EQUALITY.match(text):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: key in labels and labels[key] == value
    if match := _NUMERIC.match(text):
        key, operator, bound = match.group(1), match.group(2), int(match.group(3))

        def compare(labels: Mapping[str, str]) -> bool:
            try:
                number = int(labels[key])
            except (KeyError, ValueError):
                return False
            return number > bound if operator == ">" else number < bound

        return compare
    if match := _EXISTS.match(text):
        negate, key = match.groups()
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise ApiError(400, f"unable to parse requirement: {text!r} is not a valid label selector requirement")


def label_matcher(selector: str | None) -> Matcher:
    """Compile a label selector; an empty selector matches everything. Bad syntax raises a 400."""
    requirements = [_requirement(part) for part in _split_top_level(selector or "")]
    return lambda labels: all(requirement(labels) for requirement in requirements)


def _field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def field_matcher(kind: Kind, selector: str | None) -> Callable[[Mapping[str, Any]], bool]:
    """Compile a field selector for ``kind``; an unsupported field label raises a 400 like the apiserver."""
    checks: list[Callable[[Mapping[str, Any]], bool]] = []
    allowed = ("metadata.name", "metadata.namespace", *kind.field_labels)
    for part in _split_top_level(selector or ""):
        match = _FIELD.match(part)
        if not match:
            raise ApiError(400, f"invalid field selector: {part!r}")
        path, operator, value = match.group(1), match.group(2), match.group(3).strip()
        if path not in allowed:
            raise ApiError(400, f"field label not supported: {path}. Supported: {', '.join(allowed)}")
        checks.append(_field_check(path, value, negate=operator == "!="))
    return lambda obj: all(check(obj) for check in checks)


def _field_check(path: str, value: str, *, negate: bool) -> Callable[[Mapping[str, Any]], bool]:
    return lambda obj: (_field_value(obj, path) == value) != negate
