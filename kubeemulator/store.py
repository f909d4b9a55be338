"""The object store and the apiserver semantics of every verb, behind one lock.

A client write goes the way it goes in kube-apiserver: decode → the write's own change (PUT body, patch, apply
merge with field ownership) → defaulting → admission (namespace lifecycle, LimitRange, ResourceQuota, default
StorageClass and IngressClass) → validation and immutable fields → store, unless nothing changed. Every stored change
gets the next ``resourceVersion``, goes into the watch history and to the open watches, and wakes the simulated
controllers (``controllers``), which run before the lock is released.

Stored objects are never mutated in place: a change stores a new dict, so history entries share them safely.
Deletion is immediate (finalizers and grace periods are ignored; a deleted pod is answered as a graceful deletion
would) except for namespaces, which stay ``Terminating`` while their content drains; garbage collection of
dependents (``ownerReferences``) runs inside the delete, as if the collector were instantaneous.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import threading
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import lifecycle, patching
from .apply import apply_config, record_update
from .defaults import apply_defaults
from .errors import ApiError, Cause, success_status
from .immutability import claim_expansion, immutable_changes
from .kinds import CRD, EVENT, JOB, KINDS, NAMESPACE, POD, QUOTA, Kind
from .quota import add as add_usage
from .quota import check_quotas, object_usage
from .readiness import Readiness
from .schema import schema_for
from .selectors import field_matcher, label_matcher
from .stats import RequestStats
from .validation import validate
from .values import deep_copy, now_rfc3339, without_nulls
from .watch import ADDED, DELETED, MODIFIED, Change, History, Watcher, Watches, encode, too_old

if TYPE_CHECKING:
    from .controllers import Controllers

MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

Key = tuple[str, str]
SYSTEM_MANAGER = "kube-controller-manager"
BREAKABLE_KINDS = frozenset(
    {"Deployment", "ReplicaSet", "StatefulSet", "Job", "PersistentVolumeClaim", "Certificate"}
)
_IMMUTABLE_METADATA = ("name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp")
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SERVICE_RANGE = ipaddress.ip_network("10.96.0.0/12")
_PROTECTED_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class Store:
    """Objects by kind and ``(namespace, name)``; every public method is atomic."""

    def __init__(
        self,
        readiness: Readiness,
        stats: RequestStats,
        *,
        watch_history: int = 10_000,
        namespace_drain_delay: float = 1.0,
    ):
        self.readiness = readiness
        self.stats = stats
        self.lock = threading.RLock()
        self.namespace_drain_delay = namespace_drain_delay
        self._objects: dict[Kind, dict[Key, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._by_namespace: dict[Kind, dict[str, set[Key]]] = {kind: {} for kind in KINDS}
        """The keys of each namespace's objects: a namespaced list reads its namespace, not the whole kind."""
        self._uids: dict[str, tuple[Kind, Key]] = {}
        self._dependents: dict[str, set[str]] = {}
        """Owner uid → uids of the objects whose ownerReferences name it (for garbage collection)."""
        self._revision = 0
        self._names = random.Random()
        self.history = History(watch_history)
        self.watches = Watches()
        self._served_crds: set[str] = set()
        self._service_ips: set[str] = set()
        self._next_ip = int(_SERVICE_RANGE.network_address) + 256
        self.controllers: Controllers | None = None

    # ---- reads -------------------------------------------------------------------------------------------

    def get(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        with self.lock:
            self.settle()
            obj = self.find(kind, namespace, name)
            if obj is None:
                raise ApiError.not_found(kind, name)
            return self.output(kind, obj)

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
            self.settle()
            items = []
            for key in self._keys(kind, namespace):
                obj = self._objects[kind][key]
                if start is not None and key <= start:
                    continue
                if labels(obj["metadata"].get("labels") or {}) and fields(obj):
                    items.append((key, obj))
            metadata: dict[str, Any] = {"resourceVersion": str(self._revision)}
            if limit and len(items) > limit:
                metadata["continue"] = _encode_continue(items[limit - 1][0])
                metadata["remainingItemCount"] = len(items) - limit
                items = items[:limit]
            rendered = [self.output(kind, obj, in_list=True) for _, obj in items]
            return {
                "apiVersion": kind.api_version,
                "kind": f"{kind.kind}List",
                "metadata": metadata,
                "items": rendered,
            }

    def objects(self, kind: Kind | None = None, namespace: str | None = None) -> list[dict[str, Any]]:
        """Every stored object (with apiVersion and kind), optionally of one kind and/or namespace."""
        with self.lock:
            self.settle()
            result = []
            for each in [kind] if kind else KINDS:
                for key in self._keys(each, namespace):
                    result.append(deep_copy(self._objects[each][key]))
            return result

    def watch(
        self,
        kind: Kind,
        namespace: str | None,
        label_selector: str | None,
        field_selector: str | None,
        resource_version: str | None,
    ) -> Watcher:
        """Open a watch: the events after ``resource_version`` (or ADDED for everything now) are queued at once."""
        labels, fields = label_matcher(label_selector), field_matcher(kind, field_selector)

        def matches(obj: dict[str, Any]) -> bool:
            return bool(labels(obj["metadata"].get("labels") or {}) and fields(obj))

        watcher = Watcher(kind, namespace, matches, self.output)
        with self.lock:
            self.settle()
            start = _revision_of(resource_version)
            if start and start < self.history.compacted:
                error = too_old(start, self.history.compacted + 1)
                watcher.push(encode("ERROR", error.status()))
                watcher.close()
                return watcher
            if start:
                for change in self.history.since(start):
                    if change.kind is kind:
                        watcher.offer(change)
            else:
                for key in self._keys(kind, namespace):
                    obj = self._objects[kind][key]
                    if matches(obj):
                        watcher.push(encode(ADDED, self.output(kind, obj)))
            self.watches.add(watcher)
            return watcher

    def bookmark(self, watcher: Watcher) -> bytes | None:
        """A BOOKMARK line for ``watcher`` when it has nothing queued, carrying the current resourceVersion."""
        with self.lock:
            if not watcher.idle():
                return None
            kind = watcher.kind
            marker = {
                "kind": kind.kind,
                "apiVersion": kind.api_version,
                "metadata": {"resourceVersion": str(self._revision)},
            }
            return encode("BOOKMARK", marker)

    # ---- client writes -----------------------------------------------------------------------------------

    def create(
        self, kind: Kind, namespace: str, body: Any, manager: str, dry_run: bool = False
    ) -> dict[str, Any]:
        obj = self._decode(kind, body)
        metadata = obj["metadata"]
        if metadata.get("resourceVersion"):
            raise ApiError(400, "resourceVersion should not be set on objects to be created")
        if not metadata.get("name"):
            if not metadata.get("generateName"):
                cause = Cause(
                    "FieldValueRequired", "Required value: name or generateName is required", "metadata.name"
                )
                raise ApiError.invalid(kind, "", [cause])
            metadata["name"] = f"{metadata['generateName']}{self._suffix()}"
        self._check_namespace(kind, namespace, metadata)
        with self.lock:
            self.settle()
            self._require_namespace(kind, namespace, metadata["name"])
            if self.find(kind, namespace, metadata["name"]) is not None:
                raise ApiError.already_exists(kind, metadata["name"])
            metadata.pop("managedFields", None)
            if kind.status:
                obj.pop("status", None)
            self._default(kind, obj, None)
            record_update(kind, None, obj, manager, "", now_rfc3339())
            self._admit(kind, obj, None)
            stored = self._insert(kind, obj, dry_run, client=True)
            self.settle()
            return stored

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
            self.settle()
            live = self._existing(kind, namespace, name)
            self._check_version(kind, live, obj)
            new = self._scoped(kind, live, obj, subresource)
            return self._write(kind, live, new, manager, subresource, dry_run)

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
        if content_type == STRATEGIC_MERGE_PATCH and kind.custom:
            raise ApiError(
                415,
                "the body of the request was in an unknown format - accepted media types include: "
                "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
                "UnsupportedMediaType",
            )
        with self.lock:
            self.settle()
            live = self._existing(kind, namespace, name)
            if content_type == JSON_PATCH:
                patched = patching.json_patch(live, patch)
            elif not isinstance(patch, dict):
                raise ApiError(400, "a merge patch must be a JSON object")
            elif content_type == STRATEGIC_MERGE_PATCH:
                patched = patching.strategic_merge_patch(live, patch, schema_for(kind.kind))
            else:
                patched = patching.merge_patch(live, patch)
            obj = self._decode(kind, patched)
            self._check_name(kind, namespace, name, obj["metadata"])
            self._check_version(kind, live, obj)
            new = self._scoped(kind, live, obj, subresource)
            return self._write(kind, live, new, manager, subresource, dry_run)

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
        if kind.kind == "Secret":
            config = self._decode(kind, config)
        now = now_rfc3339()
        with self.lock:
            self.settle()
            live = self.find(kind, namespace, name)
            if live is None:
                if subresource:
                    raise ApiError.not_found(kind, name)
                self._require_namespace(kind, namespace, name)
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
                self._default(kind, new, None)
                self._admit(kind, new, None)
                stored = self._insert(kind, new, dry_run, client=True)
                self.settle()
                return stored, True
            self._check_version(kind, live, config)
            new = apply_config(kind, live, config, manager, force=force, subresource=subresource, now=now)
            if new is live:
                return self.output(kind, live), False
            new = self._decode(kind, new)
            self._default(kind, new, live)
            stored = self._replace(kind, live, new, dry_run, client=True)
            self.settle()
            return stored, False

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
        default = "Orphan" if kind.orphans_by_default else "Background"
        policy = propagation or options.get("propagationPolicy") or default
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        with self.lock:
            self.settle()
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
            if kind is NAMESPACE:
                result = self._terminate_namespace(live, dry_run)
                self.settle()
                return result
            if not dry_run:
                self.remove(kind, live, orphan=policy == "Orphan", client=True)
                self.settle()
            if kind is POD:
                return self.output(POD, _graceful(live, options))
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
                if self.find(kind, meta.get("namespace", ""), meta["name"]) is not None:
                    self.delete(kind, meta.get("namespace", ""), meta["name"], options, dry_run=dry_run)
            return listed

    # ---- the write pipeline ------------------------------------------------------------------------------

    def _write(
        self,
        kind: Kind,
        live: dict[str, Any],
        new: dict[str, Any],
        manager: str,
        subresource: str,
        dry_run: bool,
    ) -> dict[str, Any]:
        """A PUT or patch: defaults, ownership, then store (checks in ``_replace``)."""
        self._default(kind, new, live)
        record_update(kind, live, new, manager, subresource, now_rfc3339())
        stored = self._replace(kind, live, new, dry_run, client=True)
        self.settle()
        return stored

    def _default(self, kind: Kind, obj: dict[str, Any], live: dict[str, Any] | None) -> None:
        if kind.kind == "Service" and live is not None:
            _carry_cluster_ip(live, obj)
        apply_defaults(kind.kind, obj, allocate_ip=self._allocate_ip)
        if kind is JOB and live is None:
            obj["metadata"]["uid"] = str(uuid.uuid4())
            _label_job(obj, obj["metadata"]["uid"])

    def _admit(self, kind: Kind, obj: dict[str, Any], live: dict[str, Any] | None) -> None:
        """Admission of a create (``live`` None) or of a change: defaults by policy, LimitRange, quota."""
        if self.controllers is not None:
            self.controllers.admit(kind, obj, live)

    def quota_check(
        self, kind: Kind, obj: dict[str, Any], live: dict[str, Any] | None, name: str = ""
    ) -> None:
        """Refuse (403) what would not fit the namespace's ResourceQuotas."""
        namespace = obj["metadata"].get("namespace", "")
        quotas = self.in_namespace(_QUOTA_KIND, namespace) if kind.namespaced else []
        if not quotas:
            return
        delta = object_usage(kind, obj)
        if live is not None:
            before = object_usage(kind, live)
            delta = {k: v - before.get(k, 0) for k, v in delta.items() if v - before.get(k, 0) > 0}
        if not delta:
            return
        check_quotas(
            kind, name or obj["metadata"].get("name", ""), obj, delta, quotas, self.namespace_usage(namespace)
        )

    def namespace_usage(self, namespace: str) -> dict[str, Decimal]:
        """What everything in ``namespace`` counts against quotas now."""
        total: dict[str, Decimal] = {}
        for kind in KINDS:
            if kind.namespaced and kind is not _QUOTA_KIND:
                for obj in self.in_namespace(kind, namespace):
                    add_usage(total, object_usage(kind, obj))
        for quota in self.in_namespace(_QUOTA_KIND, namespace):
            add_usage(total, object_usage(_QUOTA_KIND, quota))
        return total

    # ---- for the simulated controllers (lock held) -------------------------------------------------------

    def find(self, kind: Kind, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects[kind].get((namespace if kind.namespaced else "", name))

    def in_namespace(self, kind: Kind, namespace: str) -> list[dict[str, Any]]:
        objects = self._objects[kind]
        return [objects[key] for key in self._by_namespace[kind].get(namespace, ())]

    def all_of(self, kind: Kind) -> list[dict[str, Any]]:
        return list(self._objects[kind].values())

    def by_uid(self, uid: str) -> tuple[Kind, dict[str, Any]] | None:
        found = self._uids.get(uid)
        if found is None:
            return None
        kind, key = found
        return kind, self._objects[kind][key]

    def dependents(self, uid: str, kind: Kind | None = None) -> list[dict[str, Any]]:
        found = []
        for dependent in self._dependents.get(uid, ()):
            each = self.by_uid(dependent)
            if each is not None and (kind is None or each[0] is kind):
                found.append(each[1])
        return found

    def namespaces_with(self, kind: Kind) -> list[str]:
        return list(self._by_namespace[kind])

    def system_create(self, kind: Kind, obj: dict[str, Any], manager: str = SYSTEM_MANAGER) -> dict[str, Any]:
        """Store what a controller creates (defaults filled, ownership recorded); returns the stored object."""
        metadata = obj["metadata"]
        if not metadata.get("name"):
            metadata["name"] = f"{metadata['generateName']}{self._suffix()}"
        status = obj.pop("status", None)
        self._default(kind, obj, None)
        record_update(kind, None, obj, manager, "", now_rfc3339())
        if status is not None:
            obj["status"] = status
        self._insert(kind, obj, False, client=False)
        return self.find(kind, metadata.get("namespace", ""), metadata["name"]) or obj

    def system_update(
        self,
        kind: Kind,
        live: dict[str, Any],
        new: dict[str, Any],
        manager: str = SYSTEM_MANAGER,
        subresource: str = "",
    ) -> dict[str, Any]:
        """Store a controller's change to ``live`` (``new`` is a fresh dict); returns what is stored."""
        record_update(kind, live, new, manager, subresource, now_rfc3339())
        self._replace(kind, live, new, False, client=False, checked=False)
        return self.find(kind, live["metadata"].get("namespace", ""), live["metadata"]["name"]) or live

    def system_status(
        self, kind: Kind, live: dict[str, Any], status: dict[str, Any], manager: str = SYSTEM_MANAGER
    ) -> dict[str, Any]:
        if live.get("status") == status:
            return live
        new = {**live, "metadata": dict(live["metadata"]), "status": status}
        return self.system_update(kind, live, new, manager, "status" if kind.status else "")

    def suffix(self) -> str:
        return self._suffix()

    # ---- control -----------------------------------------------------------------------------------------

    def settle(self) -> None:
        """Let the simulated controllers catch up (what is due on the clock, and what writes woke them)."""
        if self.controllers is not None:
            self.controllers.settle()

    def reset(self) -> None:
        with self.lock:
            for objects in self._objects.values():
                objects.clear()
            for index in self._by_namespace.values():
                index.clear()
            self._uids.clear()
            self._dependents.clear()
            self._served_crds.clear()
            self._service_ips.clear()
            self.readiness.reset()
            self.history.clear(self._revision)
            if self.controllers is not None:
                self.controllers.reset()

    def heal(self, namespace: str, name: str, kind: str | None = None) -> int:
        """Drop the broken rules given with these patterns; restart the readiness clock of their matches."""
        with self.lock:
            rules = self.readiness.heal(namespace, name, kind)
            for each, obj in list(self._all()):
                meta = obj["metadata"]
                if any(r.matches(each.kind, meta.get("namespace", ""), meta["name"]) for r in rules):
                    self.readiness.touch(meta["uid"])
                    if self.controllers is not None:
                        self.controllers.enqueue(each, meta.get("namespace", ""), meta["name"])
            self.settle()
            return len(rules)

    def rules_changed(self) -> None:
        """Broken rules changed: every workload they may touch looks again."""
        with self.lock:
            if self.controllers is not None:
                for kind, obj in list(self._all()):
                    self.controllers.enqueue(
                        kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
                    )
            self.settle()

    def served(self, kind: Kind) -> bool:
        """Is ``kind`` served now (a custom kind only while its CustomResourceDefinition exists)?"""
        return not kind.crd or kind.crd in self._served_crds

    def served_kinds(self) -> list[Kind]:
        with self.lock:
            return [kind for kind in KINDS if self.served(kind)]

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

    def _existing(self, kind: Kind, namespace: str, name: str) -> dict[str, Any]:
        obj = self.find(kind, namespace, name)
        if obj is None:
            raise ApiError.not_found(kind, name)
        return obj

    def _require_namespace(self, kind: Kind, namespace: str, name: str) -> None:
        if not kind.namespaced:
            return
        found = self.find(NAMESPACE, "", namespace)
        if found is None:
            raise ApiError.not_found(NAMESPACE, namespace)
        if found["metadata"].get("deletionTimestamp"):
            raise lifecycle.terminating(kind, name, namespace)

    def _suffix(self) -> str:
        return "".join(self._names.choice(_GENERATE_ALPHABET) for _ in range(5))

    def _allocate_ip(self) -> str:
        while True:
            self._next_ip += 1
            address = str(ipaddress.ip_address(self._next_ip))
            if ipaddress.ip_address(self._next_ip) not in _SERVICE_RANGE:
                self._next_ip = int(_SERVICE_RANGE.network_address) + 256
                continue
            if address not in self._service_ips:
                return address

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

    def _insert(self, kind: Kind, obj: dict[str, Any], dry_run: bool, *, client: bool) -> dict[str, Any]:
        metadata = obj["metadata"]
        validate(kind, obj)
        uid = metadata.get("uid") if kind is JOB else None
        for field in (
            "uid",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "selfLink",
        ):
            metadata.pop(field, None)
        metadata.update(uid=uid or str(uuid.uuid4()), creationTimestamp=now_rfc3339(), generation=1)
        if kind is NAMESPACE:
            obj["status"] = {"phase": "Active"}
        if dry_run:
            metadata["resourceVersion"] = self._next_revision(True)
            return self.output(kind, obj)
        self._commit(kind, obj, None, ADDED, client=client)
        self.readiness.touch(metadata["uid"])
        return self.output(kind, obj)

    def _replace(
        self,
        kind: Kind,
        live: dict[str, Any],
        new: dict[str, Any],
        dry_run: bool,
        *,
        client: bool,
        checked: bool = True,
    ) -> dict[str, Any]:
        """Store ``new`` in place of ``live`` unless nothing differs; bump generation on spec changes."""
        metadata, before = new["metadata"], live["metadata"]
        for field in _IMMUTABLE_METADATA:
            if field in before:
                metadata[field] = before[field]
            else:
                metadata.pop(field, None)
        metadata["resourceVersion"] = before["resourceVersion"]
        if new == live:
            return self.output(kind, live)
        if checked:
            validate(kind, new)
            causes = immutable_changes(kind.kind, live, new)
            if causes:
                raise ApiError.invalid(kind, before["name"], causes)
            if kind.kind == "PersistentVolumeClaim" and claim_expansion(live, new) and self.controllers:
                self.controllers.check_expansion(new)
            self._admit(kind, new, live)
        spec_changed = _spec(new) != _spec(live)
        if spec_changed:
            metadata["generation"] = int(before.get("generation", 1)) + 1
        if dry_run:
            metadata["resourceVersion"] = self._next_revision(True)
            return self.output(kind, new)
        self._commit(kind, new, live, MODIFIED, client=client)
        if spec_changed:
            self.readiness.touch(metadata["uid"])
        return self.output(kind, new)

    def _commit(
        self, kind: Kind, obj: dict[str, Any], previous: dict[str, Any] | None, event: str, *, client: bool
    ) -> None:
        """Store (or drop, for DELETED) one object version with the next resourceVersion, and tell everyone."""
        metadata = obj["metadata"]
        key = (metadata.get("namespace", "") if kind.namespaced else "", metadata["name"])
        revision = int(self._next_revision(False))
        if event == DELETED:
            obj = {**obj, "metadata": {**metadata, "resourceVersion": str(revision)}}
            del self._objects[kind][key]
            keys = self._by_namespace[kind][key[0]]
            keys.discard(key)
            if not keys:
                del self._by_namespace[kind][key[0]]
            del self._uids[metadata["uid"]]
            self._index_owners(metadata["uid"], previous, None)
            self.readiness.forget(metadata["uid"])
            if kind.kind == "Service":
                self._service_ips.discard(str((obj.get("spec") or {}).get("clusterIP", "")))
        else:
            metadata["resourceVersion"] = str(revision)
            self._objects[kind][key] = obj
            self._by_namespace[kind].setdefault(key[0], set()).add(key)
            self._uids[metadata["uid"]] = (kind, key)
            self._index_owners(metadata["uid"], previous, obj)
            if kind.kind == "Service":
                ip = (obj.get("spec") or {}).get("clusterIP")
                if ip and ip != "None":
                    self._service_ips.add(str(ip))
        if kind is CRD:
            self._served_crds = lifecycle.served_crds(self.all_of(CRD))
        change = Change(revision, kind, event, obj, previous)
        self.history.append(change)
        for watcher in self.watches.of(kind):
            watcher.offer(change)
        if client:
            self.stats.mutation(kind.kind)
        else:
            self.stats.controller_update()
        if self.controllers is not None:
            self.controllers.notice(kind, event, obj, previous)

    def _index_owners(self, uid: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
        old = {r.get("uid") for r in (before or {}).get("metadata", {}).get("ownerReferences") or []}
        new = {r.get("uid") for r in (after or {}).get("metadata", {}).get("ownerReferences") or []}
        for owner in old - new:
            dependents = self._dependents.get(str(owner))
            if dependents is not None:
                dependents.discard(uid)
                if not dependents:
                    del self._dependents[str(owner)]
        for owner in new - old:
            self._dependents.setdefault(str(owner), set()).add(uid)

    def remove(self, kind: Kind, obj: dict[str, Any], orphan: bool = False, *, client: bool = False) -> None:
        """Delete ``obj`` and, unless orphaning, its dependents (what lived only through it)."""
        uid = obj["metadata"]["uid"]
        self._commit(kind, obj, obj, DELETED, client=client)
        gone = {uid}
        while gone:
            gone = self._collect_garbage(gone, orphan)
            orphan = False

    def _collect_garbage(self, gone: set[str], orphan: bool) -> set[str]:
        """One pass of the garbage collector over the owners in ``gone``; returns the uids it deleted."""
        deleted: set[str] = set()
        candidates = {dependent for owner in gone for dependent in self._dependents.get(owner, ())}
        for dependent in sorted(candidates):
            found = self.by_uid(dependent)
            if found is None:
                continue
            kind, obj = found
            references = obj["metadata"].get("ownerReferences") or []
            remaining = [ref for ref in references if ref.get("uid") not in gone]
            if not orphan and not any(ref.get("uid") in self._uids for ref in remaining):
                self._commit(kind, obj, obj, DELETED, client=False)
                deleted.add(dependent)
                continue
            metadata = {**obj["metadata"], "ownerReferences": remaining}
            if not remaining:
                metadata.pop("ownerReferences")
            self._commit(kind, {**obj, "metadata": metadata}, obj, MODIFIED, client=False)
        return deleted

    def _terminate_namespace(self, live: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        name = live["metadata"]["name"]
        if name in _PROTECTED_NAMESPACES:
            raise ApiError.forbidden(NAMESPACE, name, "this namespace may not be deleted")
        if live["metadata"].get("deletionTimestamp"):
            why = (
                "The system is ensuring all content is removed from this namespace.  Upon completion, this "
                "namespace will automatically be purged by the system."
            )
            raise ApiError.conflict(NAMESPACE, name, why)
        terminating = lifecycle.terminating_namespace(live, now_rfc3339())
        if dry_run:
            return self.output(NAMESPACE, terminating)
        self._commit(NAMESPACE, terminating, live, MODIFIED, client=True)
        if self.controllers is not None:
            self.controllers.drain_later(name, self.namespace_drain_delay)
        return self.output(NAMESPACE, terminating)

    def drain_namespace(self, name: str) -> None:
        """Delete everything in a Terminating namespace, then the namespace itself."""
        namespace = self.find(NAMESPACE, "", name)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        for kind in KINDS:
            if not kind.namespaced or kind is EVENT:
                continue
            for obj in sorted(self.in_namespace(kind, name), key=lambda o: o["metadata"]["name"]):
                if self.by_uid(obj["metadata"]["uid"]) is not None:
                    self.remove(kind, obj)
        for event in self.in_namespace(EVENT, name):
            self.remove(EVENT, event)
        self.remove(NAMESPACE, self.find(NAMESPACE, "", name) or namespace)

    @staticmethod
    def output(kind: Kind, obj: dict[str, Any], in_list: bool = False) -> dict[str, Any]:
        """``obj`` as an answer to serialise: a new top level over the stored (never mutated) values."""
        if in_list and not kind.custom:
            return {key: value for key, value in obj.items() if key not in ("apiVersion", "kind")}
        return dict(obj)


_QUOTA_KIND = QUOTA


def _spec(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


def _graceful(pod: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """A deleted pod as a DELETE answers it (a graceful deletion's timestamp; the emulator removes it at once)."""
    grace = options.get(
        "gracePeriodSeconds", (pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30)
    )
    metadata = {**pod["metadata"], "deletionTimestamp": now_rfc3339(), "deletionGracePeriodSeconds": grace}
    return {**pod, "metadata": metadata}


def _carry_cluster_ip(live: dict[str, Any], new: dict[str, Any]) -> None:
    """An update that leaves the cluster IP out keeps the allocated one (as kube-apiserver patches it in)."""
    before, after = live.get("spec") or {}, new.get("spec")
    if not isinstance(after, dict) or after.get("type", "ClusterIP") == "ExternalName":
        return
    for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
        if field not in after and field in before:
            after[field] = deep_copy(before[field])
    ips = after.get("clusterIPs")
    if ips and ips == before.get("clusterIPs") and after.get("clusterIP") not in (None, ips[0]):
        after["clusterIPs"] = [after["clusterIP"], *ips[1:]]


def _label_job(job: dict[str, Any], uid: str) -> None:
    """A new Job's generated selector and the pod-template labels it selects (unless ``manualSelector``)."""
    spec = job.setdefault("spec", {})
    if spec.get("manualSelector"):
        return
    name = job["metadata"]["name"]
    spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
    labels = spec.setdefault("template", {}).setdefault("metadata", {}).setdefault("labels", {})
    labels.update(
        {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": name,
            "controller-uid": uid,
            "job-name": name,
        }
    )


def _revision_of(value: str | None) -> int:
    if not value:
        return 0
    try:
        return max(int(value), 0)
    except ValueError:
        raise ApiError(400, f"invalid resource version: {value!r}") from None


def _encode_continue(key: Key) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode_continue(token: str) -> Key:
    try:
        namespace, name = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(namespace), str(name)
    except (ValueError, TypeError) as error:
        raise ApiError(400, f"invalid continue token: {error}") from None
