"""One driver per upgrade: a PostgreSQL advisory lock keyed by the upgrade's id, held while a driver advances it.

Two drivers may reach the same upgrade at once (the ``drive_upgrade`` task sent twice, a wave and a direct resume):
without the lock both would act on the same step (two migration Job writes, two reconciles, the end audited twice).
A row lock (``select_for_update``) lasts only as long as a transaction, and an advance must not hold one open
across its reconciles (their runs and phases would stay invisible until it ends); a session-level advisory lock
needs no transaction, and PostgreSQL drops it with the connection of a driver that dies, so no lease can be left
behind. The lock is tried, never waited for: the driver that finds it taken leaves the upgrade to the holder.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

LOCK_SPACE = 0x48435550  # "HCUP": keeps these keys apart from any other advisory lock on the database
"""The high 32 bits of every key; the upgrade's id is the low 32 bits' owner."""


def _key(upgrade_id: int) -> int:
    return (LOCK_SPACE << 32) | (upgrade_id & 0xFFFFFFFF)


@contextmanager
def driving(upgrade_id: int) -> Iterator[bool]:
    """Try to become the upgrade's one driver; yields whether this connection holds it (released on exit)."""
    key = _key(upgrade_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        row = cursor.fetchone()
    held = bool(row and row[0])
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
