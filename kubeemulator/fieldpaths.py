"""Field paths and field sets of structured-merge-diff, the library behind a real API server's server-side apply.

A path is a tuple of elements written as in ``managedFields`` (``fieldsV1``): ``f:name`` for a field,
``k:{"name":"core"}`` for the item of a list keyed by ``name``, ``v:"value"`` for the item of a set. The walkers
below follow the ``Schema`` of the kind: lists that merge by key are visited item by item, atomic lists and objects
are leaves.

* ``applied_set`` — the fields an applied configuration sets: its leaves and the items of its keyed lists;
* ``compare`` — what changed between two versions (added, removed, modified), each node counted;
* ``merge`` — an applied configuration laid over the live object (keyed lists merged, live order first);
* ``remove`` — an object without some fields or list items.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .schema import ListType, Schema, child, item
from .values import MISSING, deep_copy

Path = tuple[str, ...]


class _Unkeyed(Exception):
    """A list item lacks a key field, or two items share a key: the list is handled as atomic."""


def _item_element(value: Any, rule: ListType) -> str:
    if rule.is_set:
        return "v:" + json.dumps(value, sort_keys=True, separators=(",", ":"))
    if not isinstance(value, dict):
        raise _Unkeyed
    key = {}
    for name in rule.keys:
        found = value.get(name, rule.defaults.get(name, MISSING))
        if found is MISSING:
            raise _Unkeyed
        key[name] = found
    return "k:" + json.dumps(key, sort_keys=True, separators=(",", ":"))


def _keyed(items: list[Any], rule: ListType) -> dict[str, Any]:
    """The list's items by element; ``_Unkeyed`` when an item has no key or a key is repeated."""
    result: dict[str, Any] = {}
    for each in items:
        element = _item_element(each, rule)
        if element in result:
            raise _Unkeyed
        result[element] = each
    return result


def keyed_items(items: list[Any], rule: ListType, where: str) -> dict[str, Any]:
    """Like ``_keyed`` for an applied configuration, where a missing or repeated key is the client's error."""
    try:
        return _keyed(items, rule)
    except _Unkeyed:
        keys = ", ".join(f'"{k}"' for k in rule.keys) or "value"
        raise ApiError(
            400,
            f"failed to create typed patch object: .{where}: associative list with keys {keys} has an item "
            "that omits a key field or repeats a key",
        ) from None


def _list_rule(schema: Schema, type_path: str, *values: Any) -> ListType | None:
    """The list's merge rule, or None when it is atomic (also when both sides are empty, or items lack keys)."""
    rule = schema.list_type(type_path)
    if rule is None or not any(isinstance(v, list) and v for v in values):
        return None
    try:
        for value in values:
            if isinstance(value, list):
                _keyed(value, rule)
    except _Unkeyed:
        return None
    return rule


def _is_object(schema: Schema, type_path: str, *values: Any) -> bool:
    """Walk into these values key by key? (objects, not atomic, not all empty)."""
    return all(isinstance(v, dict) for v in values) and any(values) and not schema.is_atomic(type_path)


# ---- sets ---------------------------------------------------------------------------------------------------


def applied_set(config: dict[str, Any], schema: Schema) -> set[Path]:
    """The fields an applied configuration owns: leaves, empty objects, atomic values and keyed list items."""
    found: set[Path] = set()
    _applied(config, schema, "", (), found)
    return found


def _applied(value: Any, schema: Schema, type_path: str, path: Path, found: set[Path]) -> None:
    if isinstance(value, dict) and value and not schema.is_atomic(type_path):
        for key, child_value in value.items():
            _applied(child_value, schema, child(type_path, key), (*path, f"f:{key}"), found)
        return
    rule = schema.list_type(type_path) if isinstance(value, list) and value else None
    if rule is not None:
        where = ".".join(p[2:] for p in path)
        for element, each in keyed_items(value, rule, where).items():
            found.add((*path, element))
            if isinstance(each, dict):
                _applied_fields(each, schema, item(type_path), (*path, element), found)
        return
    if path:
        found.add(path)


def _applied_fields(
    value: dict[str, Any], schema: Schema, type_path: str, path: Path, found: set[Path]
) -> None:
    for key, child_value in value.items():
        _applied(child_value, schema, child(type_path, key), (*path, f"f:{key}"), found)


def node_set(value: Any, schema: Schema, type_path: str = "", path: Path = ()) -> set[Path]:
    """Every node under ``value`` (objects, list items and leaves), ``path`` itself excluded."""
    found: set[Path] = set()
    _nodes(value, schema, type_path, path, found)
    return found


def _nodes(value: Any, schema: Schema, type_path: str, path: Path, found: set[Path]) -> None:
    if _is_object(schema, type_path, value):
        for key, child_value in value.items():
            child_path = (*path, f"f:{key}")
            found.add(child_path)
            _nodes(child_value, schema, child(type_path, key), child_path, found)
        return
    rule = _list_rule(schema, type_path, value)
    if rule is not None:
        for element, each in _keyed(value, rule).items():
            item_path = (*path, element)
            found.add(item_path)
            _nodes(each, schema, item(type_path), item_path, found)


@dataclass
class Comparison:
    added: set[Path] = field(default_factory=set)
    removed: set[Path] = field(default_factory=set)
    modified: set[Path] = field(default_factory=set)

    @property
    def changed(self) -> set[Path]:
        return self.added | self.removed | self.modified

    def is_same(self) -> bool:
        return not (self.added or self.removed or self.modified)


def compare(old: Any, new: Any, schema: Schema) -> Comparison:
    """What it takes to go from ``old`` to ``new``, node by node."""
    result = Comparison()
    _compare(old, new, schema, "", (), result)
    return result


def _compare(old: Any, new: Any, schema: Schema, type_path: str, path: Path, result: Comparison) -> None:
    if old is new:
        return
    if _is_object(schema, type_path, old, new):
        for key in {**old, **new}:
            _compare_child(
                old.get(key, MISSING),
                new.get(key, MISSING),
                schema,
                child(type_path, key),
                (*path, f"f:{key}"),
                result,
            )
        return
    rule = (
        _list_rule(schema, type_path, old, new) if isinstance(old, list) and isinstance(new, list) else None
    )
    if rule is not None:
        before, after = _keyed(old, rule), _keyed(new, rule)
        for element in {**before, **after}:
            _compare_child(
                before.get(element, MISSING),
                after.get(element, MISSING),
                schema,
                item(type_path),
                (*path, element),
                result,
            )
        return
    if old != new and path:
        result.modified.add(path)


def _compare_child(
    old: Any, new: Any, schema: Schema, type_path: str, path: Path, result: Comparison
) -> None:
    if old is MISSING:
        result.added.add(path)
        _nodes(new, schema, type_path, path, result.added)
    elif new is MISSING:
        result.removed.add(path)
        _nodes(old, schema, type_path, path, result.removed)
    else:
        _compare(old, new, schema, type_path, path, result)


# ---- values -------------------------------------------------------------------------------------------------


def contains(live: Any, config: Any, schema: Schema, type_path: str = "") -> bool:
    """Does ``live`` already hold everything ``config`` says (so that merging it would change nothing)?"""
    if isinstance(config, dict) and not schema.is_atomic(type_path):
        if not isinstance(live, dict):
            return False
        return all(
            key in live and contains(live[key], value, schema, child(type_path, key))
            for key, value in config.items()
        )
    rule = schema.list_type(type_path) if isinstance(config, list) and isinstance(live, list) else None
    if rule is not None and config:
        try:
            present = _keyed(live, rule)
            wanted = _keyed(config, rule)
        except _Unkeyed:
            return bool(live == config)
        return all(
            element in present and contains(present[element], value, schema, item(type_path))
            for element, value in wanted.items()
        )
    return bool(live == config) or (config == [] and isinstance(live, list) and rule is not None)


def merge(live: Any, config: Any, schema: Schema, type_path: str = "") -> Any:
    """``config`` laid over ``live`` (a new value): objects and keyed lists merge, the rest is replaced."""
    if _is_object(schema, type_path, live, config):
        result = {}
        for key, value in live.items():
            if key in config:
                result[key] = merge(value, config[key], schema, child(type_path, key))
            else:
                result[key] = deep_copy(value)
        for key, value in config.items():
            if key not in live:
                result[key] = deep_copy(value)
        return result
    rule = (
        _list_rule(schema, type_path, live, config)
        if isinstance(live, list) and isinstance(config, list)
        else None
    )
    if rule is not None:
        applied = _keyed(config, rule)
        merged = []
        seen = set()
        for each in live:
            element = _item_element(each, rule)
            seen.add(element)
            if element in applied:
                merged.append(merge(each, applied[element], schema, item(type_path)))
            else:
                merged.append(deep_copy(each))
        merged.extend(deep_copy(each) for element, each in applied.items() if element not in seen)
        return merged
    return deep_copy(config)


def get(value: Any, path: Path, schema: Schema) -> Any:
    """The node at ``path`` or ``MISSING``."""
    type_path = ""
    for element in path:
        if element.startswith("f:"):
            name = element[2:]
            if not isinstance(value, dict) or name not in value:
                return MISSING
            value, type_path = value[name], child(type_path, name)
            continue
        rule = schema.list_type(type_path)
        if rule is None or not isinstance(value, list):
            return MISSING
        try:
            value = _keyed(value, rule).get(element, MISSING)
        except _Unkeyed:
            return MISSING
        if value is MISSING:
            return MISSING
        type_path = item(type_path)
    return value


def remove(value: Any, paths: Iterable[Path], schema: Schema, keep: frozenset[Path] = frozenset()) -> Any:
    """``value`` without the fields and list items at ``paths`` (a new value).

    Objects and lists left empty by the removal go too, unless their path is in ``keep``.
    """
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for element in path[:-1]:
            node = node.setdefault(element, {})
            if node is _WHOLE:
                break
        else:
            node[path[-1]] = _WHOLE
    result = _remove(value, tree, schema, "", (), keep)
    return {} if result is MISSING else result


_WHOLE: dict[str, Any] = {}


def _remove(
    value: Any, tree: dict[str, Any], schema: Schema, type_path: str, path: Path, keep: frozenset[Path]
) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, child_value in value.items():
            sub = tree.get(f"f:{key}")
            if sub is _WHOLE:
                continue
            if sub:
                child_path = (*path, f"f:{key}")
                child_value = _remove(child_value, sub, schema, child(type_path, key), child_path, keep)
                if child_value is MISSING:
                    continue
            result[key] = child_value
        if not result and value and path not in keep:
            return MISSING
        return result
    rule = schema.list_type(type_path)
    if isinstance(value, list) and rule is not None:
        try:
            keyed = _keyed(value, rule)
        except _Unkeyed:
            return value
        items = []
        for element, each in keyed.items():
            sub = tree.get(element)
            if sub is _WHOLE:
                continue
            if sub:
                each = _remove(each, sub, schema, item(type_path), (*path, element), keep)
                if each is MISSING:
                    continue
            items.append(each)
        if not items and value and path not in keep:
            return MISSING
        return items
    return value


# ---- managedFields ------------------------------------------------------------------------------------------


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """The ``fieldsV1`` tree of a set, keys sorted: ``.`` marks a member that also has members below it."""
    tree: dict[str, Any] = {}
    members: list[dict[str, Any]] = []
    for path in sorted(paths):
        node = tree
        for element in path:
            node = node.setdefault(element, {})
        node["."] = {}
        members.append(node)
    for node in members:
        if len(node) == 1:
            del node["."]
    return tree


def from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    """The set a ``fieldsV1`` tree stands for."""
    if not prefix and isinstance(tree, dict):
        cached = _PARSED.get(id(tree))
        if cached is not None and cached[0] is tree:
            return set(cached[1])
        found = _from_fields_v1(tree, prefix)
        if len(_PARSED) >= _PARSED_SIZE:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[id(tree)] = (tree, frozenset(found))
        return found
    return _from_fields_v1(tree, prefix)


_PARSED: dict[int, tuple[dict[str, Any], frozenset[Path]]] = {}
"""Parsed trees of stored objects (never mutated, so a tree's identity stands for its content)."""
_PARSED_SIZE = 4096


def _from_fields_v1(tree: Any, prefix: Path = ()) -> set[Path]:
    found: set[Path] = set()
    if not isinstance(tree, dict):
        return found
    children = {k: v for k, v in tree.items() if k != "."}
    if prefix and (not children or "." in tree):
        found.add(prefix)
    for key, sub in children.items():
        found |= _from_fields_v1(sub, (*prefix, key))
    return found


def describe(path: Path) -> str:
    """A path as kube-apiserver writes it in messages: ``.spec.containers[name="core"].image``."""
    parts = []
    for element in path:
        kind, text = element[:2], element[2:]
        if kind == "f:":
            parts.append(f".{text}")
        elif kind == "k:":
            key = json.loads(text)
            parts.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in key.items()) + "]")
        else:
            parts.append(f"[={text}]")
    return "".join(parts)
