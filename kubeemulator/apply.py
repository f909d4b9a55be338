"""Server-side apply and the field ownership it relies on (``metadata.managedFields``).

Simplified from structured-merge-diff: a field is a path of map keys down to a leaf, and every list is atomic
(owned and replaced whole; no merging of ``containers`` by name, no set semantics for ``finalizers``).
What holds as on a real apiserver:

* an apply sets every field of the applied configuration and takes ownership of it for its field manager;
* fields the manager applied before and no longer applies are removed, unless another manager owns them too;
* applying a value different from one owned by another manager is a 409 conflict, unless ``force`` is set,
  which moves ownership to the applier; equal values are shared;
* non-apply writes (create, update, patch) take ownership of the fields they change, as operation ``Update``;
* re-applying the same configuration changes nothing (same ``resourceVersion``, same timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .kinds import Kind
from .values import MISSING, Path, deep_copy, delete_path, get_path, iter_leaves, set_path

_UNTRACKED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "generateName",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)


@dataclass
class ManagedEntry:
    """One item of ``metadata.managedFields``."""

    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str = ""
    fields: set[Path] = field(default_factory=set)

    def key(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)


def tracked_paths(obj: dict[str, Any], kind: Kind, subresource: str = "") -> set[Path]:
    """The fields of ``obj`` that can be owned through the main resource or through ``/status``."""
    result: set[Path] = set()
    for path in iter_leaves(obj):
        top = path[0]
        if top in ("apiVersion", "kind"):
            continue
        if top == "metadata" and (len(path) < 2 or path[1] in _UNTRACKED_METADATA):
            continue
        if subresource == "status":
            if top == "status":
                result.add(path)
        elif not (kind.status and top == "status"):
            result.add(path)
    return result


def _to_fields_v1(paths: set[Path]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for key in path:
            node = node.setdefault(f"f:{key}", {})
    for path in paths:
        node = tree
        for key in path:
            node = node[f"f:{key}"]
        if any(k != "." for k in node):
            node["."] = {}
    return tree


def _from_fields_v1(tree: dict[str, Any], prefix: Path = ()) -> set[Path]:
    result: set[Path] = set()
    children = {k: v for k, v in tree.items() if k.startswith("f:")}
    if prefix and (not children or "." in tree):
        result.add(prefix)
    for key, child in children.items():
        if isinstance(child, dict):
            result |= _from_fields_v1(child, (*prefix, key[2:]))
    return result


def read_managed(obj: dict[str, Any] | None) -> list[ManagedEntry]:
    entries = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict) or "manager" not in raw:
            continue
        entries.append(
            ManagedEntry(
                manager=raw["manager"],
                operation=raw.get("operation", "Update"),
                api_version=raw.get("apiVersion", ""),
                subresource=raw.get("subresource", ""),
                time=raw.get("time", ""),
                fields=_from_fields_v1(raw.get("fieldsV1") or {}),
            )
        )
    return entries


def write_managed(obj: dict[str, Any], entries: list[ManagedEntry]) -> None:
    rendered = []
    for entry in entries:
        if not entry.fields:
            continue
        item: dict[str, Any] = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
            "time": entry.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": _to_fields_v1(entry.fields),
        }
        if entry.subresource:
            item["subresource"] = entry.subresource
        rendered.append(item)
    metadata = obj.setdefault("metadata", {})
    if rendered:
        metadata["managedFields"] = rendered
    else:
        metadata.pop("managedFields", None)


def record_update(
    kind: Kind,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    subresource: str,
    now: str,
) -> None:
    """Give ``manager`` (operation Update) the fields a non-apply write changed; others lose them."""
    entries = read_managed(old)
    old_paths = tracked_paths(old, kind, subresource) if old else set()
    changed = {
        p
        for p in tracked_paths(new, kind, subresource)
        if old is None or get_path(old, p) != get_path(new, p)
    }
    changed |= {p for p in old_paths if get_path(new, p) is MISSING}
    mine = _entry(entries, ManagedEntry(manager, "Update", kind.api_version, subresource))
    for entry in entries:
        if entry is not mine:
            entry.fields = {p for p in entry.fields if not _taken(p, changed, new)}
        entry.fields = {p for p in entry.fields if get_path(new, p) is not MISSING}
    added = {p for p in changed if get_path(new, p) is not MISSING}
    if added:
        mine.time = now
    mine.fields |= added
    write_managed(new, entries)


def apply_config(
    kind: Kind,
    live: dict[str, Any],
    config: dict[str, Any],
    manager: str,
    *,
    force: bool,
    subresource: str,
    now: str,
) -> dict[str, Any]:
    """The object that results from applying ``config`` onto ``live`` (both left untouched)."""
    applied = tracked_paths(config, kind, subresource)
    entries = read_managed(live)
    mine = _entry(entries, ManagedEntry(manager, "Apply", kind.api_version, subresource))
    others = [e for e in entries if e is not mine]

    conflicts: dict[str, list[Path]] = {}
    for entry in others:
        lost = {q for q in entry.fields if _conflicts(q, applied, live, config)}
        if lost:
            conflicts[entry.manager] = sorted(lost)
            if force:
                entry.fields -= lost
    if conflicts and not force:
        raise _conflict_error(kind, config, conflicts)

    result: dict[str, Any] = deep_copy(live)
    still_owned = {p for e in others for p in e.fields}
    keep_empty = frozenset(still_owned | applied)
    for path in sorted(mine.fields - applied):
        if not _overlaps_any(path, still_owned) and not _overlaps_any(path, applied):
            delete_path(result, path, keep_empty)
    for path in applied:
        if not _agrees(result, config, path):
            set_path(result, path, get_path(config, path))

    if applied != mine.fields or _content(result) != _content(live):
        mine.time = now
    mine.fields = set(applied)
    write_managed(result, entries)
    return result


def _entry(entries: list[ManagedEntry], wanted: ManagedEntry) -> ManagedEntry:
    for entry in entries:
        if entry.key() == wanted.key():
            entry.api_version = wanted.api_version
            return entry
    entries.append(wanted)
    return wanted


def _overlaps_any(path: Path, paths: set[Path]) -> bool:
    return any(path[:i] in paths for i in range(1, len(path) + 1)) or any(
        p[: len(path)] == path for p in paths if len(p) > len(path)
    )


def _taken(owned: Path, changed: set[Path], new: dict[str, Any]) -> bool:
    """Did a write that changed ``changed`` overwrite the value at ``owned``?

    A key added inside an object does not take the object itself: its owner only claimed that it exists.
    """
    if any(owned[:i] in changed for i in range(1, len(owned) + 1)):
        return True
    inside = any(p[: len(owned)] == owned for p in changed if len(p) > len(owned))
    return inside and not isinstance(get_path(new, owned), dict)


def _conflicts(owned: Path, applied: set[Path], live: dict[str, Any], config: dict[str, Any]) -> bool:
    """Does applying ``config`` change a value at or around a path owned by someone else?"""
    candidates = [owned[:i] for i in range(1, len(owned) + 1) if owned[:i] in applied]
    if not candidates and any(p[: len(owned)] == owned for p in applied):
        candidates = [owned]
    return any(not _agrees(live, config, path) for path in candidates)


def _agrees(live: dict[str, Any], config: dict[str, Any], path: Path) -> bool:
    """Does the live value satisfy the applied one? An applied empty object only asks that the object exist."""
    wanted, current = get_path(config, path), get_path(live, path)
    if wanted == {} and isinstance(current, dict):
        return True
    return bool(wanted == current)


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}
    return {**obj, "metadata": metadata}


def _conflict_error(kind: Kind, config: dict[str, Any], conflicts: dict[str, list[Path]]) -> ApiError:
    count = sum(len(paths) for paths in conflicts.values())
    lines = [
        f'conflict with "{manager}": .{".".join(path)}'
        for manager, paths in conflicts.items()
        for path in paths
    ]
    plural = "conflict" if count == 1 else "conflicts"
    message = f"Apply failed with {count} {plural}: " + "; ".join(lines)
    name = str((config.get("metadata") or {}).get("name", ""))
    details: dict[str, Any] = {"name": name, "kind": kind.plural, "causes": []}
    if kind.group:
        details["group"] = kind.group
    for manager, paths in conflicts.items():
        for path in paths:
            details["causes"].append(
                {
                    "reason": "FieldManagerConflict",
                    "message": f'conflict with "{manager}"',
                    "field": ".".join(path),
                }
            )
    return ApiError(409, message, "Conflict", details)
