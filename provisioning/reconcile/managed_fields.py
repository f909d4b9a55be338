"""Who owns which field of a live object, read from ``metadata.managedFields`` (server-side apply's record).

Each entry names a field manager (``harbor-console``, ``kubectl-edit``, ``kube-controller-manager``...), its
operation (``Apply`` or ``Update``) and a ``fieldsV1`` tree. Every key of that tree is one step down the object:
``f:<name>`` a field of a map, ``k:{"name":"core"}`` the entry of a keyed list whose key fields hold these values,
``v:<json>`` the entry of a set (a list of scalars) holding this value, ``i:<n>`` an entry by position. An empty
node ``{}`` is a leaf: the manager owns that field whole (an atomic list with everything in it, a scalar); ``.``
in a node means the manager owns the node itself (the list entry or map exists because of it) as well as the
children listed beside it.

Paths here are tuples of steps: ``("f", "spec")``, ``("k", {"name": "core"})``, ``("v", "x")``, ``("i", 0)``.
Pure functions: no Django, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Step = tuple[str, Any]
FieldPath = tuple[Step, ...]


@dataclass(frozen=True)
class ManagerFields:
    """One ``managedFields`` entry: a manager, how it wrote, and the fields it owns."""

    manager: str
    operation: str
    subresource: str
    fields: Mapping[str, Any]

    def owns(self, path: FieldPath) -> bool:
        """This manager owns ``path`` itself: a leaf at or above it, or ``.`` on its node."""
        node = _walk(self.fields, path)
        return node is _COVERED or (node is not None and (not node or "." in node))

    def touches(self, path: FieldPath) -> bool:
        """This manager owns ``path`` or anything inside it (so the entry stays while this manager keeps it)."""
        return _walk(self.fields, path) is not None


@dataclass(frozen=True)
class Ownership:
    """Every manager's fields of one live object; ``known`` is False when the object carries no record at all."""

    entries: tuple[ManagerFields, ...]

    @property
    def known(self) -> bool:
        return bool(self.entries)

    def owners(self, path: FieldPath) -> tuple[str, ...]:
        """Managers owning ``path`` itself (a value, an atomic list, a whole entry), sorted, without repeats."""
        return _names(entry for entry in self.entries if entry.owns(path))

    def holders(self, path: FieldPath) -> tuple[str, ...]:
        """Managers owning ``path`` or any field inside it."""
        return _names(entry for entry in self.entries if entry.touches(path))

    def atomic_at(self, path: FieldPath, managers: Iterable[str]) -> bool:
        """Do ``managers`` own ``path`` only through a leaf above it (an atomic list or map owned whole)?"""
        wanted = set(managers)
        return any(_walk(entry.fields, path) is _COVERED for entry in self.entries if entry.manager in wanted)

    def list_keys(self, path: FieldPath) -> tuple[str, ...] | None:
        """The key fields of the list at ``path`` as the server recorded its entries (``k:{...}``), if it did."""
        for entry in self.entries:
            node = _walk(entry.fields, path)
            if isinstance(node, Mapping) and node is not _COVERED:
                for key in node:
                    recorded = _json(key[2:]) if key.startswith("k:") else None
                    if isinstance(recorded, Mapping) and recorded:
                        return tuple(sorted(recorded))
        return None

    def is_set(self, path: FieldPath) -> bool:
        """Did the server record the list at ``path`` as a set (entries ``v:<value>``)?"""
        for entry in self.entries:
            node = _walk(entry.fields, path)
            if isinstance(node, Mapping) and node is not _COVERED and any(k.startswith("v:") for k in node):
                return True
        return False


def read_ownership(live: Mapping[str, Any]) -> Ownership:
    """The ``managedFields`` of ``live`` (main resource only: ``/status`` entries own nothing we compare)."""
    entries = []
    for raw in (live.get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, Mapping) or not raw.get("manager"):
            continue
        subresource = str(raw.get("subresource") or "")
        if subresource == "status":
            continue
        fields = raw.get("fieldsV1") if raw.get("fieldsType", "FieldsV1") == "FieldsV1" else None
        entries.append(
            ManagerFields(
                manager=str(raw["manager"]),
                operation=str(raw.get("operation") or ""),
                subresource=subresource,
                fields=fields if isinstance(fields, Mapping) else {},
            )
        )
    return Ownership(tuple(entries))


def entry_step(item: Mapping[str, Any], keys: Sequence[str], defaults: Mapping[str, Any]) -> Step:
    """The ``k:`` step naming ``item`` of a list keyed by ``keys`` (a key left out takes its default)."""
    return ("k", {key: item.get(key, defaults.get(key)) for key in keys})


class _Covered:
    """Marker: the walk met a leaf above the path, which owns everything below it."""


_COVERED: Any = _Covered()


def _walk(tree: Mapping[str, Any], path: FieldPath) -> Any:
    """The node of ``tree`` at ``path``, ``_COVERED`` when a leaf above it owns it, None when nothing does."""
    node: Any = tree
    for index, step in enumerate(path):
        if not isinstance(node, Mapping):
            return None
        if index and not node:
            return _COVERED
        child = _child(node, step)
        if child is None:
            return None
        node = child
    return node


def _child(node: Mapping[str, Any], step: Step) -> Any:
    kind, value = step
    if kind == "f":
        return node.get(f"f:{value}")
    if kind == "i":
        return node.get(f"i:{value}")
    if kind == "v":
        for key, child in node.items():
            if key.startswith("v:") and _json(key[2:]) == value:
                return child
        return None
    if kind == "k":
        for key, child in node.items():
            if key.startswith("k:") and _same_key(_json(key[2:]), value):
                return child
        return None
    raise ValueError(f"unknown step kind {kind!r}")


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _same_key(recorded: Any, wanted: Mapping[str, Any]) -> bool:
    if not isinstance(recorded, Mapping) or set(recorded) != set(wanted):
        return False
    return all(_scalar_equal(recorded[key], wanted[key]) for key in wanted)


def _scalar_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return str(left) == str(right)


def _names(entries: Iterable[ManagerFields]) -> tuple[str, ...]:
    return tuple(sorted({entry.manager for entry in entries}))
