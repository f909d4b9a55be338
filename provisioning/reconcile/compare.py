"""Does the live object already hold what we want? Decides between applying, writing nothing, and reporting.

Two checks, both needed: the desired manifest must be contained in the live object (catches edits and deletions
made behind the console's back), and the live object's spec-hash annotation must be the desired manifest's hash
(catches fields the console stopped setting, which containment cannot see). Containment is normalised for what an
API server adds or rewrites: defaulted fields, zero values it leaves out, quantities (``0.5`` equals ``500m``), and
the order of keyed lists (containers by name, env by name, ports by port and protocol...).

Given the console's field manager, a difference is read against ``metadata.managedFields``
(``provisioning.reconcile.managed_fields``), the way server-side apply sees it:

* **drift**: a field the console lists that is missing, or holds another value while the console (or nobody) owns
  it. A forced apply fixes it.
* **foreign change** (``ForeignChange``): a field another manager owns. Either a value the console lists, which that
  manager took (``kubectl scale``, ``kubectl edit``): a forced apply that lists it takes it back, once. Or an entry
  or field the console does not list (an env var added with ``kubectl edit``): an apply can never remove it, so it
  is not drift; it is reported, and only an Update (PUT) or a JSON patch by the console removes it
  (``removal_patch``). An entry inside a list another manager owns whole (an atomic list) is replaced by a forced
  apply like a value.

Without a manager (or on an object that carries no ``managedFields``) every difference is drift, as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

from provisioning.reconcile.managed_fields import FieldPath, Ownership, entry_step, read_ownership

SPEC_HASH_ANNOTATION = "harbor-console.io/spec-hash"
_QUANTITY_PARENTS = frozenset(
    {"limits", "requests", "hard", "default", "defaultRequest", "max", "min", "capacity"}
)
_MAX_REPORTED = 5
_MAX_FOREIGN = 20
REPAIR_APPLY, REPAIR_UPDATE = "apply", "update"

_LIST_KEYS: Mapping[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "resourceClaims": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
}
"""Lists the API merges by key (``x-kubernetes-list-map-keys``); every other list is atomic."""
_PORT_KEYS: Mapping[str, tuple[str, ...]] = {
    "containerPort": ("containerPort", "protocol"),
    "port": ("port", "protocol"),
}
"""A container's ports, or a Service's: told apart by the field their entries carry."""
_KEY_DEFAULTS: Mapping[str, Any] = {"protocol": "TCP"}


def spec_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (the spec-hash annotation itself left out)."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def with_spec_hash(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """``manifest`` annotated with its hash (a new top level and metadata; the rest is shared), and the hash."""
    digest = spec_hash(manifest)
    metadata = dict(manifest["metadata"])
    metadata["annotations"] = {**metadata.get("annotations", {}), SPEC_HASH_ANNOTATION: digest}
    return {**manifest, "metadata": metadata}, digest


def live_hash(live: Mapping[str, Any]) -> str:
    return str(((live.get("metadata") or {}).get("annotations") or {}).get(SPEC_HASH_ANNOTATION, ""))


@dataclass(frozen=True)
class ForeignChange:
    """A difference owned by another field manager: where, by whom, and how Kubernetes lets the console repair it."""

    path: str
    managers: tuple[str, ...]
    listed: bool
    """The console lists this field: the other manager took a value the console sets."""
    atomic: bool = False
    """The other manager owns it through a list or map the console applies whole: a forced apply replaces it."""
    steps: FieldPath = ()

    @property
    def repair(self) -> str:
        """``apply`` (a forced apply that lists the field takes it back) or ``update`` (a PUT or JSON patch)."""
        return REPAIR_APPLY if self.listed or self.atomic else REPAIR_UPDATE

    def describe(self) -> str:
        who = ", ".join(self.managers) if self.managers else "a writer the cluster did not record"
        return f"changed by {who} at {self.path}"

    def as_record(self) -> dict[str, Any]:
        """The plain form kept on a ``ManagedResource``."""
        return {"path": self.path, "managers": list(self.managers), "repair": self.repair}


@dataclass(frozen=True)
class Comparison:
    drift: tuple[str, ...] = ()
    foreign: tuple[ForeignChange, ...] = ()

    @property
    def to_apply(self) -> list[str]:
        """Paths a forced apply fixes: drift, and values other managers took from the console."""
        return [*self.drift, *(f.path for f in self.foreign if f.repair == REPAIR_APPLY)]

    @property
    def left_to_others(self) -> list[ForeignChange]:
        """Foreign entries an apply cannot remove (their repair is an update, never an apply per pass)."""
        return [f for f in self.foreign if f.repair == REPAIR_UPDATE]


def compare(desired: Mapping[str, Any], live: Mapping[str, Any], manager: str = "") -> Comparison:
    """Drift and foreign changes of ``live`` against ``desired``, read as ``manager``'s (none: all is drift)."""
    ownership = read_ownership(live) if manager else Ownership(())
    walk = _Walk(ownership, manager)
    walk.contained(_comparable(desired), _comparable(live), (), ())
    return Comparison(tuple(walk.drift), tuple(walk.foreign))


def differences(desired: Mapping[str, Any], live: Mapping[str, Any], manager: str = "") -> list[str]:
    """Paths where ``live`` does not hold what ``desired`` says and an apply would fix it (at most a few)."""
    return compare(desired, live, manager).to_apply


def removal_patch(live: Mapping[str, Any], changes: Iterable[ForeignChange]) -> list[dict[str, Any]]:
    """A JSON patch (RFC 6902) removing the foreign entries ``changes`` name from ``live``, each guarded by a
    ``test`` of the entry it removes, so a patch computed from a stale read fails instead of removing another entry.

    Later entries of a list are removed first, so earlier positions stay right. Entries that are not there (any
    more) are left out; an empty list means nothing to do.
    """
    removals: list[tuple[tuple[Any, ...], Any]] = []
    for change in changes:
        if change.repair != REPAIR_UPDATE or not change.steps:
            continue
        pointer = _pointer(live, change.steps)
        if pointer is not None:
            removals.append(pointer)
    removals.sort(key=lambda found: found[0], reverse=True)
    patch: list[dict[str, Any]] = []
    for where, value in removals:
        path = "/" + "/".join(_escape(str(part)) for part in where)
        patch += [{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}]
    return patch


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Identity, labels, annotations and payload; server-owned metadata and status left out."""
    metadata = obj.get("metadata") or {}
    result: dict[str, Any] = {
        key: value for key, value in obj.items() if key not in ("metadata", "status", "stringData")
    }
    result["metadata"] = {key: metadata[key] for key in ("labels", "annotations") if key in metadata}
    if obj.get("kind") == "Secret" and isinstance(obj.get("stringData"), Mapping):
        data = dict(result.get("data") or {})
        for key, value in obj["stringData"].items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        result["data"] = data
    return result


def _empty(value: Any) -> bool:
    """A zero value: the API server leaves such fields out of what it serves (``omitempty``)."""
    return value is None or value is False or (not isinstance(value, bool) and value in (0, "", {}, []))


class _Walk:
    """One containment walk, collecting drift and foreign changes."""

    def __init__(self, ownership: Ownership, manager: str) -> None:
        self.ownership = ownership
        self.manager = manager
        self.drift: list[str] = []
        self.foreign: list[ForeignChange] = []

    @property
    def full(self) -> bool:
        return len(self.drift) >= _MAX_REPORTED and len(self.foreign) >= _MAX_FOREIGN

    def contained(
        self, wanted: Any, live: Any, path: tuple[str, ...], steps: FieldPath, atomic: bool = False
    ) -> None:
        if self.full or wanted == live:
            return
        if isinstance(wanted, Mapping):
            if not isinstance(live, Mapping):
                self.differs(path, steps)
                return
            for key, value in wanted.items():
                step = ("f", key)
                if key not in live:
                    if not _empty(value):
                        self.differs((*path, key), (*steps, step))
                    continue
                self.contained(value, live[key], (*path, key), (*steps, step), atomic)
            if not atomic and "metadata" not in path:
                for key in live.keys() - wanted.keys():
                    self.unlisted((*path, key), (*steps, ("f", key)), entry=False)
            return
        if isinstance(wanted, list):
            keys = None if atomic else self.list_keys(path, steps, wanted, live)
            if keys is not None:
                self.keyed(wanted, live, path, steps, keys)
                return
            if not atomic and isinstance(live, list) and self.ownership.is_set(steps):
                self.as_set(wanted, live, path, steps)
                return
            if not isinstance(live, list) or len(live) != len(wanted):
                self.differs(path, steps)
                return
            for index, (item, live_item) in enumerate(zip(wanted, live, strict=True)):
                self.contained(item, live_item, (*path, str(index)), (*steps, ("i", index)), True)
            return
        if wanted == live or _same_quantity(wanted, live, path):
            return
        self.differs(path, steps)

    def list_keys(
        self, path: tuple[str, ...], steps: FieldPath, wanted: list[Any], live: Any
    ) -> tuple[str, ...] | None:
        """How the list is merged: the keys the server recorded for it, else the well-known ones, else atomic."""
        recorded = self.ownership.list_keys(steps) if self.ownership.known else None
        return _list_keys(path[-1] if path else "", wanted, live, recorded)

    def as_set(self, wanted: list[Any], live: list[Any], path: tuple[str, ...], steps: FieldPath) -> None:
        """A list of scalars merged as a set (``v:<value>`` entries): members compared, order ignored."""
        for value in wanted:
            if value not in live:
                self.differs((*path[:-1], f"{path[-1]}[{value}]"), (*steps, ("v", value)))
        for value in live:
            if value not in wanted:
                self.unlisted((*path[:-1], f"{path[-1]}[{value}]"), (*steps, ("v", value)), entry=True)

    def keyed(
        self,
        wanted: list[Any],
        live: list[Any],
        path: tuple[str, ...],
        steps: FieldPath,
        keys: tuple[str, ...],
    ) -> None:
        """A list merged by key (containers by name...): entries compared by key, order left to the server."""
        field = path[-1] if path else ""
        by_key = {_key_of(item, keys): item for item in live}
        for item in wanted:
            key = _key_of(item, keys)
            where = (*path[:-1], f"{field}[{'/'.join(str(part) for part in key)}]")
            step = entry_step(item, keys, _KEY_DEFAULTS)
            if key not in by_key:
                self.differs(where, (*steps, step))
                continue
            self.contained(item, by_key.pop(key), where, (*steps, step))
        for key, item in by_key.items():
            where = (*path[:-1], f"{field}[{'/'.join(str(part) for part in key)}]")
            self.unlisted(where, (*steps, entry_step(item, keys, _KEY_DEFAULTS)), entry=True)

    def differs(self, path: tuple[str, ...], steps: FieldPath) -> None:
        """``desired`` sets a value at ``path`` that ``live`` does not hold."""
        owners = self.ownership.owners(steps) if self.ownership.known else ()
        others = tuple(name for name in owners if name != self.manager)
        if not others or self.manager in owners:
            if len(self.drift) < _MAX_REPORTED:
                self.drift.append(_dotted(path))
            return
        if len(self.foreign) < _MAX_FOREIGN:
            self.foreign.append(ForeignChange(_dotted(path), others, listed=True, steps=steps))

    def unlisted(self, path: tuple[str, ...], steps: FieldPath, *, entry: bool) -> None:
        """``live`` holds an entry (or, with ``entry=False``, a field) ``desired`` does not list."""
        if not self.ownership.known:
            if entry and len(self.drift) < _MAX_REPORTED:
                self.drift.append(_dotted(path))
            return
        holders = self.ownership.holders(steps)
        if self.manager in holders:
            if entry and len(self.drift) < _MAX_REPORTED:
                self.drift.append(_dotted(path))
            return
        if not holders and not entry:
            return  # a default the API server filled in: nobody's edit
        if len(self.foreign) < _MAX_FOREIGN:
            atomic = bool(holders) and self.ownership.atomic_at(steps, holders)
            self.foreign.append(
                ForeignChange(_dotted(path), holders, listed=False, atomic=atomic, steps=steps)
            )


def _list_keys(
    field: str, wanted: list[Any], live: Any, recorded: tuple[str, ...] | None = None
) -> tuple[str, ...] | None:
    """The merge keys of a keyed list field, or None for an atomic one (or entries that do not carry the keys)."""
    keys = recorded or _LIST_KEYS.get(field)
    if not recorded and field == "ports" and wanted and isinstance(wanted[0], Mapping):
        keys = next((k for first, k in _PORT_KEYS.items() if first in wanted[0]), None)
    if keys is None or not isinstance(live, list):
        return None
    items = [*wanted, *live]
    if not all(isinstance(item, Mapping) and keys[0] in item for item in items):
        return None
    if len({_key_of(item, keys) for item in wanted}) != len(wanted):
        return None
    return keys


def _key_of(item: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(item.get(key, _KEY_DEFAULTS.get(key)) for key in keys)


def _pointer(live: Mapping[str, Any], steps: FieldPath) -> tuple[tuple[Any, ...], Any] | None:
    """The JSON pointer parts of the entry ``steps`` names in ``live``, and the entry; None when it is not there."""
    node: Any = live
    parts: list[Any] = []
    for kind, value in steps:
        if kind == "f" and isinstance(node, Mapping) and value in node:
            parts.append(value)
            node = node[value]
        elif kind == "k" and isinstance(node, list):
            index = next(
                (
                    i
                    for i, item in enumerate(node)
                    if isinstance(item, Mapping)
                    and all(item.get(key, _KEY_DEFAULTS.get(key)) == wanted for key, wanted in value.items())
                ),
                None,
            )
            if index is None:
                return None
            parts.append(index)
            node = node[index]
        elif kind == "i" and isinstance(node, list) and 0 <= value < len(node):
            parts.append(value)
            node = node[value]
        else:
            return None
    return tuple(parts), node


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _same_quantity(wanted: Any, live: Any, path: tuple[str, ...]) -> bool:
    if len(path) < 2 or path[-2] not in _QUANTITY_PARENTS:
        return False
    if not isinstance(wanted, str | int | float) or not isinstance(live, str | int | float):
        return False
    try:
        return Decimal(parse_quantity(wanted)) == Decimal(parse_quantity(live))
    except (ValueError, ArithmeticError):
        return False


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path) or "(object)"
