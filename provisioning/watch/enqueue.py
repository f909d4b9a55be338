"""Reconciles asked for by the watcher, coalesced per registry.

A burst of changes (a namespace's content deleted, a rollout's status updates) becomes one run: a registry is sent
a short moment after its first change, then at most once per ``WATCH_COALESCE_SECONDS``; a change inside that
window is sent at its end, never dropped. Registries that are gone or deleted get nothing (their own deletion run
follows the namespace). Runs already under way coalesce further through the registry's lock (``reconcile.lock``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import close_old_connections, connection

from provisioning.choices import DesiredState, RunTrigger
from provisioning.models import Registry

logger = logging.getLogger("provisioning.watch")

SETTLE_SECONDS = 0.1
"""How long after a first change the registry is sent (the rest of a burst joins it)."""

Sender = Callable[[int, str], None]


def send_watch_reconcile(registry_id: int, queue: str) -> None:
    from provisioning.tasks import send_reconcile

    send_reconcile(registry_id, trigger=RunTrigger.WATCH, queue=queue)


def live_targets(registry_ids: Iterable[int]) -> dict[int, str]:
    """Registry id -> its cluster's queue, for the registries that still exist and are not being deleted."""
    rows = (
        Registry.objects.live()
        .filter(pk__in=list(registry_ids))
        .exclude(desired_state=DesiredState.DELETED)
        .values_list("pk", "cluster__queue")
    )
    return dict(rows)


class Coalescer:
    """Collects registries to reconcile and sends them from its own thread."""

    def __init__(
        self,
        send: Sender = send_watch_reconcile,
        window: float | None = None,
        lookup: Callable[[Iterable[int]], dict[int, str]] = live_targets,
    ) -> None:
        self.send = send
        self.lookup = lookup
        self.window = settings.WATCH_COALESCE_SECONDS if window is None else window
        self._due: dict[int, float] = {}
        self._sent: dict[int, float] = {}
        self._why: dict[int, str] = {}
        self._lock = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="watch-enqueue", daemon=True)
        self.sent_count = 0

    def start(self) -> Coalescer:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._lock.notify_all()
        self._thread.join(timeout=10)

    def request(self, registry_id: int, why: str) -> None:
        now = time.monotonic()
        with self._lock:
            if registry_id in self._due:
                return
            last = self._sent.get(registry_id)
            earliest = now + SETTLE_SECONDS
            self._due[registry_id] = max(earliest, last + self.window) if last is not None else earliest
            self._why[registry_id] = why
            self._lock.notify_all()

    def _take_due(self) -> list[tuple[int, str]]:
        with self._lock:
            while not self._stopped:
                now = time.monotonic()
                due = [rid for rid, at in self._due.items() if at <= now]
                if due:
                    taken = []
                    for rid in due:
                        del self._due[rid]
                        self._sent[rid] = now
                        taken.append((rid, self._why.pop(rid, "")))
                    return taken
                wait = min(self._due.values()) - now if self._due else 1.0
                self._lock.wait(timeout=max(wait, 0.01))
            return []

    def _loop(self) -> None:
        while True:
            batch = self._take_due()
            if not batch:
                connection.close()
                return
            try:
                close_old_connections()
                targets = self.lookup(rid for rid, _ in batch)
                for registry_id, why in batch:
                    queue = targets.get(registry_id)
                    if queue is None:
                        continue
                    self.send(registry_id, queue)
                    self.sent_count += 1
                    logger.info("registry %s: %s on its cluster, reconcile queued", registry_id, why)
            except Exception:
                logger.exception("could not queue watch reconciles for %s", [rid for rid, _ in batch])
            self._forget_old()

    def _forget_old(self) -> None:
        horizon = time.monotonic() - max(self.window, SETTLE_SECONDS) * 2
        with self._lock:
            for rid in [rid for rid, at in self._sent.items() if at < horizon]:
                del self._sent[rid]
