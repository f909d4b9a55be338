"""The watch cache in Redis: every owned object of a cluster, by registry, and whether it can be trusted.

The watcher (``manage.py watch_clusters``) writes it; reconcile runs in the Celery workers read it instead of
listing. Keys (``<p>`` = ``hcw:<installation>:<cluster id>``):

* ``<p>:r:<registry id>`` — a hash ``apiVersion|kind|namespace|name`` -> the object's JSON as last seen;
* ``<p>:sync`` — a hash ``kind`` -> ``{"resource_version", "synced_at"}``, set once a kind is listed and its
  watch runs, removed as soon as its watch fails;
* ``<p>:alive`` — the watcher's heartbeat, expiring after ``WATCH_STALE_SECONDS``.

The cache is *synced* for a cluster when every rendered kind is synced and the heartbeat is alive. Otherwise readers
get None and list as before: a dead watcher or a broken watch never makes a run act on old data for longer than the
heartbeat. Without ``REDIS_URL`` there is no cache (the worker and the watcher share no memory).
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import redis
from django.conf import settings

from provisioning.kube.resources import ObjectKey
from provisioning.models import installation_id
from provisioning.rendering import REGISTRY_ID_LABEL, RENDERED_KINDS

WATCHED_KINDS: tuple[str, ...] = tuple(kind for _, kind in RENDERED_KINDS)

_clients: dict[str, redis.Redis] = {}


def _client() -> redis.Redis | None:
    url = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return client


def field_of(key: ObjectKey) -> str:
    return "|".join(key)


def key_of(field: str) -> ObjectKey:
    api_version, kind, namespace, name = field.split("|", 3)
    return api_version, kind, namespace, name


def encode(obj: Mapping[str, Any]) -> bytes:
    """An object as the cache stores it: compact JSON, deflated (a stack's objects take about a sixth of the
    memory; inflating them costs a reader well under a millisecond per registry)."""
    return zlib.compress(json.dumps(obj, separators=(",", ":")).encode(), 1)


def decode(value: bytes) -> dict[str, Any]:
    """``encode``'s inverse; plain JSON (as written before objects were deflated) is read as it is."""
    raw = value if value[:1] == b"{" else zlib.decompress(value)
    return dict(json.loads(raw))


def registry_of(obj: Mapping[str, Any]) -> int | None:
    """The registry id an owned object is labelled with (None when it carries no usable one)."""
    value = ((obj.get("metadata") or {}).get("labels") or {}).get(REGISTRY_ID_LABEL, "")
    return int(value) if str(value).isdigit() else None


class WatchCache:
    """One cluster's part of the cache."""

    def __init__(self, cluster_id: int, client: redis.Redis | None = None) -> None:
        self.cluster_id = cluster_id
        self.prefix = f"hcw:{installation_id()}:{cluster_id}"
        self.client = client if client is not None else _client()

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _registry_key(self, registry_id: int) -> str:
        return f"{self.prefix}:r:{registry_id}"

    # ---- the watcher's side ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything of this cluster (a watcher starting over: what it had may be stale)."""
        if self.client is None:
            return
        keys = list(self.client.scan_iter(f"{self.prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])

    def replace_kind(
        self,
        kind: str,
        objects: Mapping[ObjectKey, tuple[int, Mapping[str, Any]]],
        gone: Iterable[tuple[int, ObjectKey]],
    ) -> None:
        """Store a fresh LIST of ``kind`` (``objects``: key -> (registry id, object)) and drop ``gone``."""
        if self.client is None:
            return
        pipe = self.client.pipeline(transaction=False)
        for registry_id, key in gone:
            pipe.hdel(self._registry_key(registry_id), field_of(key))
        for key, (registry_id, obj) in objects.items():
            pipe.hset(self._registry_key(registry_id), field_of(key), encode(obj))
        pipe.execute()

    def put(self, registry_id: int, key: ObjectKey, obj: Mapping[str, Any]) -> None:
        if self.client is None:
            return
        self.client.hset(self._registry_key(registry_id), field_of(key), encode(obj))

    def drop(self, registry_id: int, key: ObjectKey) -> None:
        if self.client is None:
            return
        self.client.hdel(self._registry_key(registry_id), field_of(key))

    def mark_synced(self, kind: str, resource_version: str) -> None:
        if self.client is None:
            return
        state = {"resource_version": resource_version, "synced_at": time.time()}
        self.client.hset(f"{self.prefix}:sync", kind, json.dumps(state))

    def mark_unsynced(self, kind: str) -> None:
        if self.client is None:
            return
        self.client.hdel(f"{self.prefix}:sync", kind)

    def heartbeat(self) -> None:
        if self.client is None:
            return
        self.client.set(f"{self.prefix}:alive", str(time.time()), ex=settings.WATCH_STALE_SECONDS)

    def stop(self) -> None:
        """The watcher stops watching this cluster: readers list again at once."""
        if self.client is None:
            return
        self.client.delete(f"{self.prefix}:alive", f"{self.prefix}:sync")

    # ---- the readers' side ------------------------------------------------------------------------------------

    def sync_state(self) -> dict[str, dict[str, Any]]:
        """Per kind, the synced resourceVersion and when it was listed (kinds not synced are absent)."""
        if self.client is None:
            return {}
        raw: dict[bytes, bytes] = self.client.hgetall(f"{self.prefix}:sync")  # type: ignore[assignment]
        return {k.decode(): json.loads(v) for k, v in raw.items()}

    def synced(self) -> bool:
        """True when every rendered kind is listed and watched and the watcher is alive."""
        if self.client is None:
            return False
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(f"{self.prefix}:alive")
        pipe.hkeys(f"{self.prefix}:sync")
        alive, kinds = pipe.execute()
        return bool(alive) and {k.decode() for k in kinds} >= set(WATCHED_KINDS)

    def owned(self, registry_id: int) -> dict[ObjectKey, dict[str, Any]] | None:
        """Every cached object of the registry, or None when the cache cannot be trusted now (list instead)."""
        if self.client is None:
            return None
        pipe = self.client.pipeline(transaction=False)
        pipe.exists(f"{self.prefix}:alive")
        pipe.hkeys(f"{self.prefix}:sync")
        pipe.hgetall(self._registry_key(registry_id))
        alive, kinds, objects = pipe.execute()
        if not alive or not {k.decode() for k in kinds} >= set(WATCHED_KINDS):
            return None
        return {key_of(field.decode()): decode(value) for field, value in objects.items()}


def cache_synced(cluster_id: int) -> bool:
    """Whether reconcile runs of this cluster's registries read the watch cache now (not the API server)."""
    return WatchCache(cluster_id).synced()


def cached_owned(cluster_id: int, registry_id: int) -> dict[ObjectKey, dict[str, Any]] | None:
    """The registry's owned objects from the watch cache; None when it is not synced (or Redis fails)."""
    try:
        return WatchCache(cluster_id).owned(registry_id)
    except redis.RedisError:
        return None


def owned_in(objects: Mapping[ObjectKey, dict[str, Any]], namespace: str) -> dict[ObjectKey, dict[str, Any]]:
    """What a LIST of the registry's namespace would find: its Namespace objects, and the namespaced objects
    inside ``namespace`` only while that Namespace exists."""
    namespaces = {key: obj for key, obj in objects.items() if key[1] == "Namespace"}
    if not any(key[3] == namespace for key in namespaces):
        return namespaces
    return {key: obj for key, obj in objects.items() if key[1] == "Namespace" or key[2] == namespace}
