"""One reconciliation per registry at a time, across every worker process and machine, and no request lost.

With ``settings.REDIS_URL`` the lock is a Redis key set with ``NX`` and a TTL, released only by its holder (a
compare-and-delete script). Without Redis (the embedded SQLite / filesystem-broker mode) it is a lease row taken
by a conditional ``UPDATE ... WHERE expires_at < now``. The TTL is short (``settings.RECONCILE_LOCK_TTL_SECONDS``):
a run keeps its lock with a ``heartbeat`` that extends it every third of the TTL, so a killed worker's lock lapses
within one TTL while a long run keeps it as long as it works.

A run that cannot take the lock leaves a **request** (one marker per registry, however many runs were refused:
coalesced) and is recorded as skipped. The holder takes the request when it has released the lock and runs once
more; should the holder die instead, the first refused run also claims a **deferred check** (one per registry)
that looks again once the lock has lapsed. Either way what was asked for runs, once.

Each lock carries its holder's label (``run-<id>``) in its token, so ``lock_holder`` tells whether a run still
holds its registry (how a run whose worker died is told from one that is merely long).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

import redis
from django.conf import settings
from django.db import connection, connections
from django.db.models import Q, QuerySet
from django.utils import timezone

from provisioning.models import ReconcileLease

logger = logging.getLogger("provisioning.reconcile")

KEY_PREFIX = "harborconsole:reconcile-lock:"
"""Followed by the database name and the registry id: consoles sharing one Redis never share a lock."""
REQUEST_PREFIX = "harborconsole:reconcile-request:"
CHECK_PREFIX = "harborconsole:reconcile-check:"
REQUEST_TTL_SECONDS = 24 * 3600
"""A request nobody carried out is forgotten after a day (the fleet sweep has long since run the registry)."""

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""


class RegistryLock(Protocol):
    token: str

    def acquire(self) -> bool: ...

    def extend(self) -> bool: ...

    def release(self) -> None: ...

    def remaining(self) -> float:
        """Seconds until the lock lapses unless its holder extends it (0 when nobody holds it)."""
        ...

    def request(self) -> None:
        """Leave a request for one more run (one marker, however many callers leave it)."""
        ...

    def requested(self) -> bool: ...

    def take_request(self) -> bool:
        """Remove the request marker; True when there was one."""
        ...

    def claim_check(self, seconds: float) -> bool:
        """True for the one caller that should schedule a deferred check ``seconds`` from now."""
        ...

    def forget_check(self) -> None:
        """The deferred check is under way: the next refused run may claim another."""
        ...


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis(url: str) -> redis.Redis:
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return client


def _token(holder: str) -> str:
    return f"{holder}:{secrets.token_hex(8)}" if holder else secrets.token_hex(16)


class RedisLock:
    """A registry's lock as a Redis key holding a random token, with its request and check markers beside it."""

    def __init__(self, registry_id: int, ttl_seconds: int, url: str, holder: str = "") -> None:
        suffix = f"{connection.settings_dict['NAME']}:{registry_id}"
        self.key = f"{KEY_PREFIX}{suffix}"
        self.request_key = f"{REQUEST_PREFIX}{suffix}"
        self.check_key = f"{CHECK_PREFIX}{suffix}"
        self.ttl_ms = ttl_seconds * 1000
        self.token = _token(holder)
        self.client = _redis(url)

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def extend(self) -> bool:
        return bool(self.client.eval(_EXTEND, 1, self.key, self.token, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value

    def remaining(self) -> float:
        left = int(self.client.pttl(self.key))
        return max(left, 0) / 1000

    def request(self) -> None:
        self.client.set(self.request_key, "1", ex=REQUEST_TTL_SECONDS)

    def requested(self) -> bool:
        return bool(self.client.exists(self.request_key))

    def take_request(self) -> bool:
        return bool(self.client.delete(self.request_key))

    def claim_check(self, seconds: float) -> bool:
        return bool(self.client.set(self.check_key, "1", nx=True, px=int((seconds + 30) * 1000)))

    def forget_check(self) -> None:
        self.client.delete(self.check_key)


class LeaseLock:
    """A registry's lock as a ``ReconcileLease`` row, for deployments without Redis."""

    def __init__(self, registry_id: int, ttl_seconds: int, holder: str = "") -> None:
        self.registry_id = registry_id
        self.ttl = timedelta(seconds=ttl_seconds)
        self.token = _token(holder)

    @property
    def _row(self) -> QuerySet[ReconcileLease]:
        return ReconcileLease.objects.filter(registry_id=self.registry_id)

    def _ensure(self) -> None:
        ReconcileLease.objects.bulk_create(
            [ReconcileLease(registry_id=self.registry_id)], ignore_conflicts=True
        )

    def acquire(self) -> bool:
        self._ensure()
        now = timezone.now()
        taken = self._row.filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now)).update(
            holder=self.token, expires_at=now + self.ttl
        )
        return taken == 1

    def extend(self) -> bool:
        return self._row.filter(holder=self.token).update(expires_at=timezone.now() + self.ttl) == 1

    def release(self) -> None:
        self._row.filter(holder=self.token).update(holder="", expires_at=None)

    def holder(self) -> str | None:
        now = timezone.now()
        return (
            self._row.filter(expires_at__gt=now).exclude(holder="").values_list("holder", flat=True).first()
        )

    def remaining(self) -> float:
        expires = self._row.values_list("expires_at", flat=True).first()
        return max((expires - timezone.now()).total_seconds(), 0.0) if expires else 0.0

    def request(self) -> None:
        self._ensure()
        self._row.filter(requested_at__isnull=True).update(requested_at=timezone.now())

    def requested(self) -> bool:
        return self._row.filter(requested_at__isnull=False).exists()

    def take_request(self) -> bool:
        return self._row.filter(requested_at__isnull=False).update(requested_at=None) == 1

    def claim_check(self, seconds: float) -> bool:
        self._ensure()
        now = timezone.now()
        claimed = self._row.filter(Q(check_at__isnull=True) | Q(check_at__lte=now - timedelta(seconds=30)))
        return claimed.update(check_at=now + timedelta(seconds=seconds)) == 1

    def forget_check(self) -> None:
        self._row.update(check_at=None)


def registry_lock(
    registry_id: int, ttl_seconds: int | None = None, *, holder: str = ""
) -> RedisLock | LeaseLock:
    """The lock of one registry, in Redis when it is configured, else in the database; ``holder`` labels it."""
    ttl = ttl_seconds or settings.RECONCILE_LOCK_TTL_SECONDS
    if settings.REDIS_URL:
        return RedisLock(registry_id, ttl, settings.REDIS_URL, holder)
    return LeaseLock(registry_id, ttl, holder)


def lock_holder(registry_id: int) -> str | None:
    """The label of whoever holds the registry's lock now (``run-<id>``, or ``""`` for an unlabelled holder)."""
    token = registry_lock(registry_id).holder()
    if token is None:
        return None
    return token.rpartition(":")[0]


class Heartbeat:
    """Extends a held lock every ``interval`` seconds from a daemon thread until stopped.

    ``lost`` is set when an extension finds the lock no longer ours (it lapsed: the process stalled longer than
    the TTL): the run must stop writing, another may already hold the registry. A failed extension (Redis or the
    database briefly away) is retried at the next beat; the TTL leaves two more.
    """

    def __init__(self, lock: RegistryLock, interval: float) -> None:
        self.lock = lock
        self.interval = interval
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="reconcile-lock-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                try:
                    kept = self.lock.extend()
                except Exception:
                    logger.warning("could not extend a reconcile lock; trying again", exc_info=True)
                    continue
                if not kept:
                    self.lost.set()
                    return
        finally:
            connections.close_all()


@contextmanager
def heartbeat(lock: RegistryLock, ttl_seconds: float | None = None) -> Iterator[Heartbeat]:
    """Keep ``lock`` while the block runs (extended every third of the TTL)."""
    ttl = ttl_seconds or settings.RECONCILE_LOCK_TTL_SECONDS
    beat = Heartbeat(lock, ttl / 3).start()
    try:
        yield beat
    finally:
        beat.stop()


@contextmanager
def holding(
    registry_id: int, ttl_seconds: int | None = None, *, holder: str = ""
) -> Iterator[RegistryLock | None]:
    """Yield the held lock (kept by a heartbeat), or None when another run holds it; released on the way out."""
    lock = registry_lock(registry_id, ttl_seconds, holder=holder)
    if not lock.acquire():
        yield None
        return
    try:
        with heartbeat(lock, ttl_seconds):
            yield lock
    finally:
        lock.release()
