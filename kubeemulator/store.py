"""The object store and the apiserver semantics of every verb, behind one lock.

Simplifications: deletion is immediate (finalizers and grace periods are ignored) and garbage collection of
dependents (``ownerReferences``) runs synchronously inside the delete, as if the collector were instantaneous;
``metadata.generation`` is kept for every kind; no defaulting of spec fields.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from . import patching
from .apply import apply_config, record_update
from .errors import ApiError, success_status
from .kinds import KINDS, NAMESPACE, Kind
from .readiness import Readiness
from .selectors import field_matcher, label_matcher
from .stats import RequestStats
from .validation import validate
from .values import deep_copy, now_rfc3339, without_nulls

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

Key = tuple[str, str]
_IMMUTABLE_METADATA = ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


class Store:
    """Objects by kind and ``(namespace, name)``; every public method is atomic."""

    def __init__(self, readiness: Readiness, stats: RequestStats):
        self.readiness = readiness
        self.stats = stats
        self.lock = threading.RLock()
        self._objects: dict[Kind, dict[Key, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._by_namespace: dict[Kind, dict[str, set[Key]]] = {kind: {} for kind in KINDS}
        """The keys of each namespace's objects: a namespaced list reads its namespace, not the whole kind."""
        self._uids: dict[str, tuple[Kind, Key]] = {}
        self._revision = 0
        self._names = random.Random()

    # ---- reads -------------------------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self._find(kind, namespace, name)
            if obj is None:
                raise ApiError.not_found(kind, name)
            self._refresh(kind, obj)
            return self._output(kind, obj)

    def list_objects(
        self,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> dict[str, Any]:
        labels, fields = label_matcher(label_selector), field_matcher(kind, field_selector)
        start = _decode_continue(continue_token) if continue_token else None
        with self.lock:
            items = []
            for key in self._keys(kind, namespace):
                obj = self._objects[kind][key]
                if start is not None and key <= start:
                    continue
                if labels(obj["metadata"].get("labels") or {}) and fields(obj):
                    self._refresh(kind, obj)
                    items.append((key, obj))
            metadata: dict[str, Any] = {"resourceVersion": str(self._revision)}
            if limit and len(items) > limit:
                metadata["continue"] = _encode_continue(items[limit - 1][0])
                metadata["remainingItemCount"] = len(items) - limit
                items = items[:limit]
            rendered = [self._output(kind, obj, in_list=True) for _, obj in items]
            return {
                "apiVersion": kind.api_version,
                "kind": f"{kind.kind}List",
                "metadata": metadata,
                "items": rendered,
            }

    def objects(self, kind: Kind | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every stored object (with apiVersion and kind), optionally of one kind and/or namespace."""
        with self.lock:
            result = []
            for each in [kind] if kind else KINDS:
                for key in self._keys(each, namespace):
                    obj = self._objects[each][key]
                    self._refresh(each, obj)
                    result.append(self._output(each, obj))
            return result

    # ---- writes ------------------------------------------------------------------------------------------

    def create(
        self, kind: Kind, namespace: str, body: Any, manager: str, dry_run: bool = False
    ) -> dict[str, Any]:
        obj = self._decode(kind, body)
        metadata = obj["metadata"]
        if metadata.get("resourceVersion"):
            raise ApiError(400, "resourceVersion should not be set on objects to be created")
        if not metadata.get("name"):
            if not metadata.get("generateName"):
                raise ApiError.invalid(
                    kind, "", "metadata.name: Required value: name or generateName is required"
                )
            suffix = "".join(self._names.choice(_GENERATE_ALPHABET) for _ in range(5))
            metadata["name"] = f"{metadata['generateName']}{suffix}"
        self._check_namespace(kind, namespace, metadata)
        with self.lock:
            self._require_namespace(kind, namespace)
            if self._find(kind, namespace, metadata["name"]) is not None:
                raise ApiError.already_exists(kind, metadata["name"])
            metadata.pop("managedFields", None)
            if kind.status:
                obj.pop("status", None)
            record_update(kind, None, obj, manager, "", now_rfc3339())
            return self._insert(kind, obj, dry_run)

    def update(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        body: Any,
        manager: str,
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        obj = self._decode(kind, body)
        self._check_name(kind, namespace, name, obj["metadata"])
        with self.lock:
            live = self._existing(kind, namespace, name)
            self._check_version(kind, live, obj)
            new = self._scoped(kind, live, obj, subresource)
            record_update(kind, live, new, manager, subresource, now_rfc3339())
            return self._replace(kind, live, new, dry_run)

    def patch(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        content_type: str,
        patch: Any,
        manager: str,
        subresource: str = "",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            live = self._existing(kind, namespace, name)
            if content_type == JSON_PATCH:
                patched = patching.json_patch(live, patch)
            elif not isinstance(patch, dict):
                raise ApiError(400, "a merge patch must be a JSON object")
            elif content_type == STRATEGIC_MERGE_PATCH:
                patched = patching.strategic_merge_patch(live, patch)
            else:
                patched = patching.merge_patch(live, patch)
            obj = self._decode(kind, patched)
            self._check_name(kind, namespace, name, obj["metadata"])
            self._check_version(kind, live, obj)
            new = self._scoped(kind, live, obj, subresource)
            record_update(kind, live, new, manager, subresource, now_rfc3339())
            return self._replace(kind, live, new, dry_run)

    def apply(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        config: Any,
        manager: str | None,
        force: bool = False,
        subresource: str = "",
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Server-side apply; returns the object and whether it was created."""
        if not manager:
            raise ApiError(400, "fieldManager is required for apply requests")
        if not isinstance(config, dict):
            raise ApiError(400, "an apply configuration must be an object")
        config = without_nulls(config)
        if config.get("apiVersion") != kind.api_version or config.get("kind") != kind.kind:
            raise ApiError(
                400,
                f"apply configuration must have apiVersion {kind.api_version!r} and kind {kind.kind!r}, "
                f"got {config.get('apiVersion')!r} and {config.get('kind')!r}",
            )
        metadata = config.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise ApiError(400, "metadata must be an object")
        self._check_name(kind, namespace, name, metadata)
        now = now_rfc3339()
        with self.lock:
            live = self._find(kind, namespace, name)
            if live is None:
                if subresource:
                    raise ApiError.not_found(kind, name)
                self._require_namespace(kind, namespace)
                base: dict[str, Any] = {
                    "apiVersion": kind.api_version,
                    "kind": kind.kind,
                    "metadata": {"name": name},
                }
                if kind.namespaced:
                    base["metadata"]["namespace"] = namespace
                new = apply_config(kind, base, config, manager, force=force, subresource="", now=now)
                new = self._decode(kind, new)
                if kind.status:
                    new.pop("status", None)
                return self._insert(kind, new, dry_run), True
            self._check_version(kind, live, config)
            new = apply_config(kind, live, config, manager, force=force, subresource=subresource, now=now)
            return self._replace(kind, live, self._decode(kind, new), dry_run), False

    def delete(
        self,
        kind: Kind,
        namespace: str,
        name: str,
        options: dict[str, Any] | None = None,
        propagation: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        options = options or {}
        policy = propagation or options.get("propagationPolicy") or "Background"
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        with self.lock:
            live = self._existing(kind, namespace, name)
            preconditions = options.get("preconditions") or {}
            uid, version = live["metadata"]["uid"], live["metadata"]["resourceVersion"]
            if preconditions.get("uid") not in (None, uid):
                why = f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                why += f"UID in object meta: {uid}"
                raise ApiError.conflict(kind, name, why)
            if preconditions.get("resourceVersion") not in (None, version):
                why = (
                    "Precondition failed: ResourceVersion in precondition: "
                    f"{preconditions['resourceVersion']}, ResourceVersion in object meta: {version}"
                )
                raise ApiError.conflict(kind, name, why)
            if not dry_run:
                self._remove(kind, live, orphan=policy == "Orphan")
            return success_status(kind, name, uid)

    def delete_collection(
        self,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        with self.lock:
            listed = self.list_objects(kind, namespace, label_selector, field_selector)
            for item in listed["items"]:
                meta = item["metadata"]
                if self._find(kind, meta.get("namespace", ""), meta["name"]) is not None:
                    self.delete(kind, meta.get("namespace", ""), meta["name"], options, dry_run=dry_run)
            return listed

    # ---- control -----------------------------------------------------------------------------------------

    def reset(self) -> None:
        with self.lock:
            for objects in self._objects.values():
                objects.clear()
            for index in self._by_namespace.values():
                index.clear()
            self._uids.clear()
            self.readiness.reset()

    def heal(self, namespace: str, name: str, kind: str | None = None) -> int:
        """Drop the broken rules given with these patterns; restart the readiness clock of their matches."""
        with self.lock:
            rules = self.readiness.heal(namespace, name, kind)
            for each, obj in self._all():
                meta = obj["metadata"]
                if any(r.matches(each.kind, meta.get("namespace", ""), meta["name"]) for r in rules):
                    self.readiness.touch(meta["uid"])
            return len(rules)

    @property
    def resource_version(self) -> int:
        return self._revision

    # ---- internals ---------------------------------------------------------------------------------------

    def _all(self) -> Iterator[tuple[Kind, dict[str, Any]]]:
        for kind, objects in self._objects.items():
            for obj in objects.values():
                yield kind, obj

    def _keys(self, kind: Kind, namespace: str | None) -> list[Key]:
        """Sorted keys of ``kind`` in ``namespace`` (every namespace when None)."""
        if namespace is None:
            return sorted(self._objects[kind])
        if not kind.namespaced:
            return sorted(key for key in self._objects[kind] if key[0] == namespace)
        return sorted(self._by_namespace[kind].get(namespace, ()))

    def _find(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects[kind].get((namespace if kind.namespaced else "", name))

    def _existing(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        obj = self._find(kind, namespace, name)
        if obj is None:
            raise ApiError.not_found(kind, name)
        return obj

    def _require_namespace(self, kind: Kind, namespace: str) -> None:
        if kind.namespaced and self._find(NAMESPACE, "", namespace) is None:
            raise ApiError.not_found(NAMESPACE, namespace)

    def _decode(self, kind: Kind, body: Any) -> dict[str, Any]:
        """A body as a clean object of ``kind``: no nulls, checked type, Secret ``stringData`` folded in."""
        if not isinstance(body, dict):
            raise ApiError(400, f"the body of a {kind.kind} must be a JSON object")
        obj: dict[str, Any] = without_nulls(body)
        for field, expected in (("apiVersion", kind.api_version), ("kind", kind.kind)):
            if obj.setdefault(field, expected) != expected:
                raise ApiError(
                    400, f"the {field} in the data ({obj[field]}) does not match the expected {expected}"
                )
        if not isinstance(obj.setdefault("metadata", {}), dict):
            raise ApiError(400, "metadata must be an object")
        if kind.kind == "Secret" and isinstance(obj.get("stringData"), dict):
            data = obj.setdefault("data", {})
            for key, value in obj.pop("stringData").items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        return obj

    @staticmethod
    def _check_namespace(kind: Kind, namespace: str, metadata: dict[str, Any]) -> None:
        if not kind.namespaced:
            metadata.pop("namespace", None)
            return
        if metadata.setdefault("namespace", namespace) != namespace:
            raise ApiError(
                400, "the namespace of the provided object does not match the namespace sent on the request"
            )

    def _check_name(self, kind: Kind, namespace: str, name: str, metadata: dict[str, Any]) -> None:
        if metadata.setdefault("name", name) != name:
            raise ApiError(
                400,
                f"the name of the object ({metadata['name']}) does not match the name on the URL ({name})",
            )
        self._check_namespace(kind, namespace, metadata)

    @staticmethod
    def _check_version(kind: Kind, live: dict[str, Any], obj: dict[str, Any]) -> None:
        wanted = (obj.get("metadata") or {}).get("resourceVersion")
        if wanted and wanted != live["metadata"]["resourceVersion"]:
            raise ApiError.stale(kind, live["metadata"]["name"])

    @staticmethod
    def _scoped(kind: Kind, live: dict[str, Any], obj: dict[str, Any], subresource: str) -> dict[str, Any]:
        """What a write may change: only ``status`` through ``/status``, the rest through the resource."""
        if subresource == "status":
            new: dict[str, Any] = deep_copy(live)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        if kind.status:
            obj.pop("status", None)
            if "status" in live:
                obj["status"] = deep_copy(live["status"])
        return obj

    def _next_revision(self, dry_run: bool) -> str:
        if dry_run:
            return str(self._revision + 1)
        self._revision += 1
        return str(self._revision)

    def _insert(self, kind: Kind, obj: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        metadata = obj["metadata"]
        validate(kind, obj)
        for field in (
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            metadata.pop(field, None)
        metadata.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        metadata["resourceVersion"] = self._next_revision(dry_run)
        if kind is NAMESPACE:
            obj["status"] = {"phase": "Active"}
        if not dry_run:
            key = (metadata.get("namespace", ""), metadata["name"])
            self._objects[kind][key] = obj
            self._by_namespace[kind].setdefault(key[0], set()).add(key)
            self._uids[metadata["uid"]] = (kind, key)
            self.readiness.touch(metadata["uid"])
            self.stats.mutation(kind.kind)
        return self._output(kind, obj)

    def _replace(
        self, kind: Kind, live: dict[str, Any], new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        """Store ``new`` in place of ``live`` unless nothing differs; bump generation on spec changes."""
        metadata, before = new["metadata"], live["metadata"]
        for field in _IMMUTABLE_METADATA:
            if field in before:
                metadata[field] = before[field]
            else:
                metadata.pop(field, None)
        metadata["resourceVersion"] = before["resourceVersion"]
        validate(kind, new)
        if new == live:
            return self._output(kind, live)
        spec_changed = _spec(new) != _spec(live)
        if spec_changed:
            metadata["generation"] = int(before.get("generation", 1)) + 1
        metadata["resourceVersion"] = self._next_revision(dry_run)
        if not dry_run:
            self._objects[kind][(metadata.get("namespace", ""), metadata["name"])] = new
            if spec_changed:
                self.readiness.touch(metadata["uid"])
            self.stats.mutation(kind.kind)
        return self._output(kind, new)

    def _remove(self, kind: Kind, obj: dict[str, Any], orphan: bool) -> None:
        """Delete ``obj``, what lived in it (for a namespace) and, unless orphaning, its dependents."""
        self.stats.mutation(kind.kind)
        gone = {self._drop(kind, obj)}
        if kind is NAMESPACE:
            name = obj["metadata"]["name"]
            for each in KINDS:
                for key in list(self._by_namespace[each].get(name, ())) if each.namespaced else ():
                    gone.add(self._drop(each, self._objects[each][key]))
        while gone:
            gone = self._collect_garbage(gone, orphan)
            orphan = False

    def _drop(self, kind: Kind, obj: dict[str, Any]) -> str:
        metadata = obj["metadata"]
        key = (metadata.get("namespace", ""), metadata["name"])
        del self._objects[kind][key]
        keys = self._by_namespace[kind][key[0]]
        keys.discard(key)
        if not keys:
            del self._by_namespace[kind][key[0]]
        del self._uids[metadata["uid"]]
        self.readiness.forget(metadata["uid"])
        self._next_revision(False)
        return str(metadata["uid"])

    def _collect_garbage(self, gone: set[str], orphan: bool) -> set[str]:
        """One pass of the garbage collector over the owners in ``gone``; returns the uids it deleted."""
        deleted: set[str] = set()
        for kind, obj in list(self._all()):
            references = obj["metadata"].get("ownerReferences") or []
            remaining = [ref for ref in references if ref.get("uid") not in gone]
            if len(remaining) == len(references):
                continue
            if not orphan and not any(ref.get("uid") in self._uids for ref in remaining):
                deleted.add(self._drop(kind, obj))
                continue
            if remaining:
                obj["metadata"]["ownerReferences"] = remaining
            else:
                obj["metadata"].pop("ownerReferences")
            obj["metadata"]["resourceVersion"] = self._next_revision(False)
        return deleted

    def _refresh(self, kind: Kind, obj: dict[str, Any]) -> None:
        status = self.readiness.refresh(kind.kind, obj)
        if status is not None:
            obj["status"] = status
            obj["metadata"]["resourceVersion"] = self._next_revision(False)
            self.stats.controller_update()

    @staticmethod
    def _output(kind: Kind, obj: dict[str, Any], in_list: bool = False) -> dict[str, Any]:
        result: dict[str, Any] = deep_copy(obj)
        if in_list and not kind.custom:
            result.pop("apiVersion", None)
            result.pop("kind", None)
        return result


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _encode_continue(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> Key:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(namespace), str(name)
    except (ValueError, TypeError) as error:
        raise ApiError(400, f"invalid continue token: {error}") from None
