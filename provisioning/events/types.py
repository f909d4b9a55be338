"""The event types, named ``io.harbor-console.<subject kind>.<what happened>``."""

from __future__ import annotations

PREFIX = "io.harbor-console."

ACTION_TYPES = {
    "create": "registry.created",
    "update": "registry.updated",
    "upgrade": "registry.upgraded",
    "suspend": "registry.suspended",
    "resume": "registry.resumed",
    "delete": "registry.deleted",
    "purge": "registry.purge_requested",
    "rotate_credentials": "registry.credentials_rotation_requested",
}
"""Audited registry actions → their event. Each says what was asked and accepted (the desired state changed);
what the cluster then did is told by ``registry.phase_changed`` and ``run.finished``."""

PHASE_CHANGED = "registry.phase_changed"
PURGED = "registry.purged"
RUN_FINISHED = "run.finished"

ALL = sorted({*ACTION_TYPES.values(), PHASE_CHANGED, PURGED, RUN_FINISHED})


def full(name: str) -> str:
    """``registry.created`` → ``io.harbor-console.registry.created``."""
    return PREFIX + name


FULL_NAMES = [full(name) for name in ALL]
