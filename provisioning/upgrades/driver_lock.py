"""One driver per upgrade (and per wave): a PostgreSQL advisory lock keyed by the id, held while a driver advances it.

Two drivers may reach the same upgrade at once (the ``drive_upgrade`` task sent twice, a wave and a direct resume):
without the lock both would act on the same step (two migration Job writes, two reconciles, the end audited twice).
A row lock (``select_for_update``) lasts only as long as a transaction, and an advance must not hold one open
across its reconciles (their runs and phases would stay invisible until it ends); a session-level advisory lock
needs no transaction, and PostgreSQL drops it with the connection of a driver that dies, so no lease can be left
behind. The lock is tried, never waited for: the driver that finds it taken leaves the upgrade to the holder.
A wave has its own (two ``drive_wave`` chains would otherwise both start a batch's upgrades).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

logger = logging.getLogger("provisioning.upgrades")

UPGRADE_SPACE = 0x48435550  # "HCUP": keeps these keys apart from any other advisory lock on the database
WAVE_SPACE = 0x48435741  # "HCWA"
"""The high 32 bits of a key; the upgrade's (or wave's) id is its low 32 bits."""


def _key(space: int, row_id: int) -> int:
    return (space << 32) | (row_id & 0xFFFFFFFF)


@contextmanager
def driving(upgrade_id: int, space: int = UPGRADE_SPACE) -> Iterator[bool]:
    """Try to become the upgrade's (``space=WAVE_SPACE``: the wave's) one driver; yields whether this connection
    holds it (released on exit)."""
    key = _key(space, upgrade_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        row = cursor.fetchone()
    held = bool(row and row[0])
    try:
        yield held
    finally:
        if held:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
            except DatabaseError as error:
                # A broken connection or transaction: the lock goes with the connection, so close it (outside a
                # transaction; inside one, its owner's rollback and the worker's connection handling do).
                logger.warning("could not release the driver lock %s: %s", key, error)
                if not connection.in_atomic_block:
                    connection.close()
