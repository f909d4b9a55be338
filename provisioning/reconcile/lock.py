"""One reconciliation per registry at a time, across every worker process and machine.

With ``settings.REDIS_URL`` the lock is a Redis key set with ``NX`` and a TTL, released only by its holder (a
compare-and-delete script). Without Redis (the embedded SQLite / filesystem-broker mode) it is a lease row taken
by a conditional ``UPDATE ... WHERE expires_at < now``. Either way a crashed holder's lock expires after
``settings.RECONCILE_LOCK_TTL_SECONDS``; a run that cannot take the lock is dropped, never queued behind it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Protocol

import redis
from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from provisioning.models import ReconcileLease

KEY_PREFIX = "harborconsole:reconcile-lock:"
"""Followed by the database name and the registry id: consoles sharing one Redis never share a lock."""

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


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis(url: str) -> redis.Redis:
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return client


class RedisLock:
    """A registry's lock as a Redis key holding a random token."""

    def __init__(self, registry_id: int, ttl_seconds: int, url: str) -> None:
        database = connection.settings_dict["NAME"]
        self.key = f"{KEY_PREFIX}{database}:{registry_id}"
        self.ttl_ms = ttl_seconds * 1000
        self.token = secrets.token_hex(16)
        self.client = _redis(url)

    def acquire(self) -> bool:
        return bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))

    def extend(self) -> bool:
        return bool(self.client.eval(_EXTEND, 1, self.key, self.token, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.token)


class LeaseLock:
    """A registry's lock as a ``ReconcileLease`` row, for deployments without Redis."""

    def __init__(self, registry_id: int, ttl_seconds: int) -> None:
        self.registry_id = registry_id
        self.ttl = timedelta(seconds=ttl_seconds)
        self.token = secrets.token_hex(16)

    def acquire(self) -> bool:
        ReconcileLease.objects.bulk_create(
            [ReconcileLease(registry_id=self.registry_id)], ignore_conflicts=True
        )
        now = timezone.now()
        taken = (
            ReconcileLease.objects.filter(registry_id=self.registry_id)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__lte=now))
            .update(holder=self.token, expires_at=now + self.ttl)
        )
        return taken == 1

    def extend(self) -> bool:
        mine = ReconcileLease.objects.filter(registry_id=self.registry_id, holder=self.token)
        return mine.update(expires_at=timezone.now() + self.ttl) == 1

    def release(self) -> None:
        ReconcileLease.objects.filter(registry_id=self.registry_id, holder=self.token).update(
            holder="", expires_at=None
        )


def registry_lock(registry_id: int, ttl_seconds: int | None = None) -> RegistryLock:
    """The lock of one registry, in Redis when it is configured, else in the database."""
    ttl = ttl_seconds or settings.RECONCILE_LOCK_TTL_SECONDS
    if settings.REDIS_URL:
        return RedisLock(registry_id, ttl, settings.REDIS_URL)
    return LeaseLock(registry_id, ttl)


@contextmanager
def holding(registry_id: int, ttl_seconds: int | None = None) -> Iterator[RegistryLock | None]:
    """Yield the held lock, or None when another run holds it; released on the way out."""
    lock = registry_lock(registry_id, ttl_seconds)
    if not lock.acquire():
        yield None
        return
    try:
        yield lock
    finally:
        lock.release()
