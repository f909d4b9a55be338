"""The watcher: for every cluster, one list-then-watch per rendered kind, feeding the cache and asking for reconciles.

Each ``KindWatch`` runs in its own thread with its own client (a watch holds a connection for minutes): it LISTs the
kind across all namespaces with this installation's ownership selector (manager and installation, every registry),
stores the result, then watches from the list's ``resourceVersion`` with bookmarks, watching again from the last
version seen when the server ends the stream. 410 Gone (the version is too old) means LIST again; any other error
marks the kind unsynced (readers list for themselves meanwhile), is recorded on the cluster when it says the API
server cannot be used, and the watch is tried again from the last version seen with exponential backoff (the kind is
synced again once the resumed watch delivers its first event). A re-list is compared with what was known, so a
change missed while the watch was down still asks for its reconcile.

``FleetWatcher`` follows the clusters in the database (a cluster added, removed or given other access is picked up
within ``REFRESH_SECONDS``) and keeps each cluster's heartbeat in the cache alive.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection

from provisioning.kube import KubeGateway, KubeWatchExpired, WatchEvent, object_key
from provisioning.kube.resources import ObjectKey
from provisioning.models import Cluster, installation_id
from provisioning.reconcile.engine import cluster_access
from provisioning.rendering import INSTALLATION_LABEL, MANAGED_BY_LABEL, RENDERED_KINDS
from provisioning.rendering.labels import MANAGER
from provisioning.watch.cache import WatchCache, registry_of
from provisioning.watch.changes import Memo, memo_of, why_reconcile
from provisioning.watch.contact import ClusterContact
from provisioning.watch.enqueue import Coalescer

logger = logging.getLogger("provisioning.watch")

WATCH_SECONDS = 60
"""How long one watch request lasts; a connection that goes silent is noticed within this (plus the timeout)."""
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 30.0
HEARTBEAT_SECONDS = 2.0
REFRESH_SECONDS = 10.0


def installation_selector() -> str:
    """Every object this installation owns, whatever the registry."""
    return f"{MANAGED_BY_LABEL}={MANAGER},{INSTALLATION_LABEL}={installation_id()}"


def backoff(failures: int) -> float:
    """Seconds before the ``failures``-th retry: exponential with jitter, capped."""
    delay = min(BACKOFF_FIRST * 2 ** max(failures - 1, 0), BACKOFF_MAX)
    return delay / 2 + random.uniform(0, delay / 2)


class KindWatch:
    """List-then-watch of one kind on one cluster."""

    def __init__(
        self,
        api_version: str,
        kind: str,
        make_gateway: Callable[[], KubeGateway],
        cache: WatchCache,
        contact: ClusterContact,
        coalescer: Coalescer,
        stop: threading.Event,
        *,
        watch_seconds: int = WATCH_SECONDS,
    ) -> None:
        self.api_version, self.kind = api_version, kind
        self.make_gateway = make_gateway
        self.cache, self.contact, self.coalescer, self.stop = cache, contact, coalescer, stop
        self.watch_seconds = watch_seconds
        self.memos: dict[ObjectKey, Memo] = {}
        self.listed_once = False
        self.lists = 0
        """How many LISTs this watch made (the first, then one per 410 Gone or failed LIST)."""
        self.expired = 0
        self.healthy = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"watch-{kind}", daemon=True)

    def run(self) -> None:
        gateway: KubeGateway | None = None
        failures = 0
        version = ""
        try:
            while not self.stop.is_set():
                try:
                    if gateway is None:
                        gateway = self.make_gateway()  # unusable access settings fail here, and are retried
                    if not version:
                        version = self.relist(gateway)
                    for event in gateway.watch(
                        self.api_version,
                        self.kind,
                        label_selector=installation_selector(),
                        resource_version=version,
                        timeout_seconds=self.watch_seconds,
                    ):
                        version = event.resource_version or version
                        self.on_event(event)
                        if not self.healthy.is_set():
                            # back after a failure: the resumed watch replays what it missed
                            self.cache.mark_synced(self.kind, version)
                            self.healthy.set()
                        failures = 0
                        if self.stop.is_set():
                            break
                except KubeWatchExpired:
                    logger.info("watch of %s expired (410 Gone): listing again", self.kind)
                    self.expired += 1
                    version = ""
                except Exception as error:  # noqa: BLE001 - any failure: unsynced, recorded, retried from version
                    failures += 1
                    self.healthy.clear()
                    self.cache_call(self.cache.mark_unsynced, self.kind)
                    if not self.contact.failed(error):
                        logger.warning("watch of %s failed: %s", self.kind, error)
                    self.stop.wait(backoff(failures))
        finally:
            self.healthy.clear()
            if gateway is not None:
                gateway.close()
            connection.close()

    def cache_call(self, method: Callable[..., None], *args: Any) -> None:
        try:
            method(*args)
        except Exception:
            logger.exception("the watch cache failed (%s)", self.kind)

    def relist(self, gateway: KubeGateway) -> str:
        """LIST the kind, store it, ask for reconciles of what changed since the last list; returns its version."""
        self.healthy.clear()
        self.cache.mark_unsynced(self.kind)
        started = time.perf_counter()
        items, version = gateway.list_with_version(
            self.api_version, self.kind, label_selector=installation_selector()
        )
        self.lists += 1
        latency = round((time.perf_counter() - started) * 1000, 1)
        objects: dict[ObjectKey, tuple[int, dict[str, Any]]] = {}
        memos: dict[ObjectKey, Memo] = {}
        for obj in items:
            registry_id = registry_of(obj)
            if registry_id is not None:
                key = object_key(obj)
                objects[key] = (registry_id, obj)
                memos[key] = memo_of(obj, registry_id, gateway.field_manager)
        gone = [
            (memo.registry_id, key)
            for key, memo in self.memos.items()
            if key not in memos or memos[key].registry_id != memo.registry_id
        ]
        self.cache.replace_kind(self.kind, objects, gone)
        if self.listed_once:
            for key in self.memos.keys() | memos.keys():
                before, after = self.memos.get(key), memos.get(key)
                why = why_reconcile(before, after)
                if why:
                    self.request(key, (after or before).registry_id, why)  # type: ignore[union-attr]
        self.memos, self.listed_once = memos, True
        self.cache.mark_synced(self.kind, version)
        self.healthy.set()
        self.contact.listed(latency)
        return version

    def on_event(self, event: WatchEvent) -> None:
        if not event.bookmark:
            key = object_key(event.object)
            before = self.memos.get(key)
            registry_id = registry_of(event.object) if event.type != "DELETED" else None
            if before is not None and before.registry_id != registry_id:
                self.cache.drop(before.registry_id, key)
            after: Memo | None = None
            if registry_id is None:
                self.memos.pop(key, None)
            else:
                after = memo_of(event.object, registry_id, settings.KUBE_FIELD_MANAGER)
                self.cache.put(registry_id, key, event.object)
                self.memos[key] = after
            why = why_reconcile(before, after)
            target = after or before
            if why and target is not None:
                self.request(key, target.registry_id, why)
        self.contact.watched()

    def request(self, key: ObjectKey, registry_id: int, why: str) -> None:
        _, kind, namespace, name = key
        where = f"{namespace}/{name}" if namespace else name
        self.coalescer.request(registry_id, f"{kind} {where} {why}")


def access_fingerprint(cluster: Cluster) -> str:
    access = cluster_access(cluster)
    text = "\0".join([access.api_url, access.token, access.ca_pem, access.kubeconfig, str(access.in_cluster)])
    return hashlib.sha256(text.encode()).hexdigest()


class ClusterWatch:
    """Every kind's watch on one cluster, its cache and its contact recorder."""

    def __init__(self, cluster: Cluster, coalescer: Coalescer, *, watch_seconds: int = WATCH_SECONDS) -> None:
        self.cluster_id = cluster.pk
        self.name = cluster.name
        self.fingerprint = access_fingerprint(cluster)
        self.access = cluster_access(cluster)
        self.cache = WatchCache(cluster.pk)
        self.contact = ClusterContact(cluster.pk)
        self.stop_event = threading.Event()
        self.kinds = [
            KindWatch(
                api_version,
                kind,
                self.make_gateway,
                self.cache,
                self.contact,
                coalescer,
                self.stop_event,
                watch_seconds=watch_seconds,
            )
            for api_version, kind in RENDERED_KINDS
        ]

    def make_gateway(self) -> KubeGateway:
        return KubeGateway(
            self.access,
            field_manager=settings.KUBE_FIELD_MANAGER,
            timeout=settings.KUBE_REQUEST_TIMEOUT_SECONDS,
        )

    def start(self) -> ClusterWatch:
        self.cache.reset()
        threading.Thread(target=self._read_version, name="watch-version", daemon=True).start()
        for kind in self.kinds:
            kind.thread.start()
        logger.info("watching cluster %s (%d kinds)", self.name, len(self.kinds))
        return self

    def _read_version(self) -> None:
        gateway = self.make_gateway()
        try:
            self.contact.version(gateway.server_version())
        except Exception as error:  # noqa: BLE001 - the watches record what matters
            logger.info("could not read the version of cluster %s: %s", self.name, error)
        finally:
            gateway.close()
            connection.close()

    @property
    def synced(self) -> bool:
        return all(kind.healthy.is_set() for kind in self.kinds)

    def beat(self) -> None:
        """Keep the cache trusted while every kind's thread runs."""
        if all(kind.thread.is_alive() for kind in self.kinds):
            self.cache.heartbeat()

    def stop(self, wait: float = 0) -> None:
        self.stop_event.set()
        try:
            self.cache.stop()
        except Exception:
            logger.exception("could not mark the cache of cluster %s stopped", self.name)
        deadline = time.monotonic() + wait
        for kind in self.kinds:
            kind.thread.join(timeout=max(deadline - time.monotonic(), 0))


class FleetWatcher:
    """Watches every cluster in the database until stopped."""

    def __init__(self, coalescer: Coalescer | None = None, *, watch_seconds: int = WATCH_SECONDS) -> None:
        self.coalescer = coalescer or Coalescer()
        self.watch_seconds = watch_seconds
        self.clusters: dict[int, ClusterWatch] = {}
        self.stop_event = threading.Event()

    def refresh(self) -> None:
        """Start watching new clusters, stop removed ones, restart those whose access changed."""
        close_old_connections()
        current = {cluster.pk: cluster for cluster in Cluster.objects.all()}
        for pk in list(self.clusters):
            watch = self.clusters[pk]
            cluster = current.get(pk)
            if cluster is None or access_fingerprint(cluster) != watch.fingerprint:
                watch.stop()
                del self.clusters[pk]
        for pk, cluster in current.items():
            if pk not in self.clusters:
                self.clusters[pk] = ClusterWatch(
                    cluster, self.coalescer, watch_seconds=self.watch_seconds
                ).start()

    def run(self) -> None:
        self.coalescer.start()
        refreshed = 0.0
        try:
            while not self.stop_event.is_set():
                if time.monotonic() - refreshed >= REFRESH_SECONDS:
                    try:
                        self.refresh()
                    except Exception:
                        logger.exception("could not read the clusters to watch")
                    refreshed = time.monotonic()
                for watch in self.clusters.values():
                    try:
                        watch.beat()
                    except Exception:
                        logger.exception("the watch cache of cluster %s failed", watch.name)
                self.stop_event.wait(HEARTBEAT_SECONDS)
        finally:
            for watch in self.clusters.values():
                watch.stop(wait=2)
            self.coalescer.stop()
            connection.close()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="fleet-watcher", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()
