"""Server-side apply and field ownership (``metadata.managedFields``), after structured-merge-diff.

Ownership is a set of field paths per manager and operation (see ``fieldpaths``): leaves, and the items of the lists
that merge by key (``containers`` by ``name``, ``env`` by ``name``...; see ``schema``), so two managers can own
different entries of one list. What holds as on a real API server:

* an apply by manager A sets what A's configuration lists and A then owns exactly that; a field or list item A
  applied before and no longer applies is removed, unless another manager owns it too — and an entry another
  manager added (say an ``env`` entry through ``kubectl edit``) stays, whatever A's forced applies say;
* applying a value different from one another manager owns is a 409 conflict unless ``force`` is set, which moves
  the field to A; equal values are shared;
* an update (create, PUT, patch) gives its manager what it added or changed and takes that from the others; what
  it removed is nobody's — a PUT that omits a foreign ``env`` entry removes it;
* a no-op apply changes nothing (same ``resourceVersion``, same timestamps); fields the API server fills in by
  defaulting after an apply belong to no manager.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import fieldpaths
from .errors import ApiError
from .fieldpaths import Path
from .kinds import Kind
from .schema import Schema, schema_for

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
    """One item of ``metadata.managedFields``; its field set is parsed only when a write needs it."""

    manager: str
    operation: str
    api_version: str
    subresource: str = ""
    time: str = ""
    raw: dict[str, Any] | None = field(default=None, repr=False)
    """The item as stored, reused as is when the write leaves it alone."""
    _fields: set[Path] | None = field(default=None, repr=False)

    @property
    def fields(self) -> set[Path]:
        if self._fields is None:
            self._fields = fieldpaths.from_fields_v1((self.raw or {}).get("fieldsV1") or {})
        return self._fields

    @fields.setter
    def fields(self, value: set[Path]) -> None:
        self._fields = value
        self.raw = None

    def key(self) -> tuple[str, str, str]:
        return (self.manager, self.operation, self.subresource)

    def describe(self) -> str:
        """The manager as conflict messages name it: ``"kubectl-edit" using apps/v1 at 2025-01-01T00:00:00Z``."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f' with subresource "{self.subresource}"'
        if self.operation == "Update":
            text += f" using {self.api_version}" + (f" at {self.time}" if self.time else "")
        return text


def tracked(obj: dict[str, Any] | None, kind: Kind, subresource: str = "") -> dict[str, Any]:
    """The part of ``obj`` whose fields can be owned through the resource or through its ``/status``."""
    if not obj:
        return {}
    if subresource == "status":
        return {"status": obj["status"]} if "status" in obj else {}
    result: dict[str, Any] = {}
    for key, value in obj.items():
        if key in ("apiVersion", "kind") or (key == "status" and kind.status):
            continue
        if key == "metadata" and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k not in _UNTRACKED_METADATA}
            if not value:
                continue
        result[key] = value
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
                raw=raw,
            )
        )
    return entries


def write_managed(obj: dict[str, Any], entries: list[ManagedEntry]) -> None:
    rendered = []
    for entry in entries:
        if entry.raw is not None:
            same = (
                entry.raw.get("time", "") == entry.time and entry.raw.get("apiVersion") == entry.api_version
            )
            rendered.append(
                entry.raw if same else {**entry.raw, "time": entry.time, "apiVersion": entry.api_version}
            )
            continue
        if not entry.fields:
            continue
        item: dict[str, Any] = {
            "manager": entry.manager,
            "operation": entry.operation,
            "apiVersion": entry.api_version,
            "time": entry.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": fieldpaths.to_fields_v1(entry.fields),
        }
        if entry.subresource:
            item["subresource"] = entry.subresource
        rendered.append(item)
    metadata = obj.setdefault("metadata", {})
    if rendered:
        metadata["managedFields"] = rendered
    else:
        metadata.pop("managedFields", None)


def _entry(entries: list[ManagedEntry], wanted: ManagedEntry) -> ManagedEntry:
    for entry in entries:
        if entry.key() == wanted.key():
            entry.api_version = wanted.api_version
            return entry
    entries.append(wanted)
    return wanted


def _without(paths: set[Path], gone: set[Path]) -> set[Path]:
    """``paths`` minus ``gone`` and minus whatever lies under a path of ``gone``."""
    if not gone:
        return paths
    return {p for p in paths if not any(p[:i] in gone for i in range(1, len(p) + 1))}


def record_update(
    kind: Kind,
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    subresource: str,
    now: str,
) -> None:
    """Ownership after a non-apply write (create, PUT, patch) by ``manager``, written into ``new``."""
    schema = schema_for(kind.kind)
    entries = read_managed(old)
    change = fieldpaths.compare(tracked(old, kind, subresource), tracked(new, kind, subresource), schema)
    mine = _entry(entries, ManagedEntry(manager, "Update", kind.api_version, subresource))
    taken = change.added | change.modified
    if change.is_same() and mine.raw is not None:
        write_managed(new, entries)
        return
    for entry in entries:
        if entry is not mine and entry.subresource == subresource:
            kept = _without(entry.fields, taken | change.removed)
            if kept != entry.fields:
                entry.fields = kept
    before = set(mine.fields)
    after = _without(before, change.removed) | taken
    if after != before or mine.raw is None:
        mine.fields = after
        mine.time = now
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
    """The object that results from applying ``config`` onto ``live`` (both left untouched; ``live`` itself is
    returned when the apply changes nothing)."""
    schema = schema_for(kind.kind)
    applied = tracked(config, kind, subresource)
    wanted = fieldpaths.applied_set(applied, schema)
    entries = read_managed(live)
    mine = _entry(entries, ManagedEntry(manager, "Apply", kind.api_version, subresource))
    if mine.raw is not None and mine.fields == wanted and fieldpaths.contains(live, applied, schema):
        return live  # a no-op: live already holds what this manager applies, and it owns exactly that
    others = [e for e in entries if e is not mine and e.subresource == subresource]

    result = _merged(kind, live, applied, schema, subresource)
    stale = mine.fields - wanted
    if stale:
        owned = set(wanted).union(*(e.fields for e in others))
        result = fieldpaths.remove(result, stale - owned, schema, keep=frozenset(owned))
        result = _restore_identity(live, result)

    change = fieldpaths.compare(tracked(live, kind, subresource), tracked(result, kind, subresource), schema)
    taken = change.added | change.modified
    conflicts = {id(e): e.fields & taken for e in others}
    conflicts = {k: v for k, v in conflicts.items() if v}
    if conflicts and not force:
        raise _conflict_error(
            kind, config, [(e, sorted(conflicts[id(e)])) for e in others if id(e) in conflicts]
        )
    for entry in others:
        kept = _without(entry.fields - conflicts.get(id(entry), set()), change.removed)
        if kept != entry.fields:
            entry.fields = kept
    if wanted != mine.fields or not change.is_same() or mine.raw is None:
        mine.time = now
        mine.fields = wanted
    write_managed(result, entries)
    return result


def _merged(
    kind: Kind, live: dict[str, Any], applied: dict[str, Any], schema: Schema, subresource: str
) -> dict[str, Any]:
    if subresource == "status":
        merged = fieldpaths.merge({"status": live.get("status", {})}, applied, schema)
        return {**fieldpaths.merge(live, {}, schema), "status": merged.get("status", {})}
    result: dict[str, Any] = fieldpaths.merge(live, applied, schema)
    return result


def _restore_identity(live: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Removal never takes the object's identity: apiVersion, kind and the untracked metadata stay."""
    for key in ("apiVersion", "kind"):
        if key in live:
            result[key] = live[key]
    metadata = result.setdefault("metadata", {})
    for key, value in (live.get("metadata") or {}).items():
        if key in _UNTRACKED_METADATA:
            metadata[key] = value
    return result


def _conflict_error(
    kind: Kind, config: dict[str, Any], conflicts: list[tuple[ManagedEntry, list[Path]]]
) -> ApiError:
    count = sum(len(paths) for _, paths in conflicts)
    if count == 1:
        entry, (path,) = conflicts[0]
        message = (
            f"Apply failed with 1 conflict: conflict with {entry.describe()}: {fieldpaths.describe(path)}"
        )
    else:
        lines = []
        for entry, paths in sorted(conflicts, key=lambda pair: pair[0].manager):
            lines.append(f"conflicts with {entry.describe()}:")
            lines.extend(f"- {fieldpaths.describe(path)}" for path in paths)
        message = f"Apply failed with {count} conflicts: " + "\n".join(lines)
    name = str((config.get("metadata") or {}).get("name", ""))
    details: dict[str, Any] = {"name": name, "kind": kind.plural, "causes": []}
    if kind.group:
        details["group"] = kind.group
    for entry, paths in conflicts:
        for path in paths:
            details["causes"].append(
                {
                    "reason": "FieldManagerConflict",
                    "message": f"conflict with {entry.describe()}",
                    "field": fieldpaths.describe(path),
                }
            )
    return ApiError(409, message, "Conflict", details)
