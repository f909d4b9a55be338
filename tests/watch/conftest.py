"""Fixtures: the watcher running in this process against the test's emulated cluster, its reconcile requests
recorded (``sent``) or sent to a real Celery worker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from provisioning.models import Cluster
from provisioning.watch import cache_synced
from provisioning.watch.cache import WatchCache
from provisioning.watch.enqueue import Coalescer, send_watch_reconcile
from provisioning.watch.watcher import FleetWatcher, KindWatch
from tests.engine.helpers import wait_for


@dataclass
class RunningWatcher:
    fleet: FleetWatcher
    thread: threading.Thread
    sent: list[int] = field(default_factory=list)

    def wait_synced(self, cluster: Cluster, timeout: float = 20.0) -> None:
        wait_for(lambda: cache_synced(cluster.pk), timeout, f"the watch cache of {cluster} to be synced")

    def kind(self, cluster: Cluster, kind: str) -> KindWatch:
        return next(k for k in self.fleet.clusters[cluster.pk].kinds if k.kind == kind)

    def stop(self) -> None:
        self.fleet.stop()
        self.thread.join(timeout=15)


@pytest.fixture
def start_watcher() -> Iterator[Callable[..., RunningWatcher]]:
    """``start(send_to_workers=False, window=0.2)``: the watcher over every cluster of the test database."""
    started: list[RunningWatcher] = []

    def start(send_to_workers: bool = False, window: float = 0.2) -> RunningWatcher:
        sent: list[int] = []

        def record(registry_id: int, queue: str) -> None:
            sent.append(registry_id)
            if send_to_workers:
                send_watch_reconcile(registry_id, queue)

        fleet = FleetWatcher(Coalescer(record, window=window), watch_seconds=5)
        running = RunningWatcher(fleet, fleet.start_thread(), sent)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()
        for cluster_id in list(running.fleet.clusters) or []:
            WatchCache(cluster_id).reset()
    for cluster in Cluster.objects.all():
        WatchCache(cluster.pk).reset()
