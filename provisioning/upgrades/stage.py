"""The reconciler's hook: where the registry's upgrade stands, so the engine renders only what has moved."""

from __future__ import annotations

from provisioning.models import Registry, StepStatus, Upgrade, UpgradeStatus
from provisioning.rendering.upgrade import MIGRATION, ROLL_ORDER, UpgradeStage

STAGED = (UpgradeStatus.RUNNING, UpgradeStatus.HALTED)
"""A halted upgrade keeps its stage: nothing moves further until it is resumed or rolled back."""


def stage_of(upgrade: Upgrade) -> UpgradeStage:
    """Components whose step has begun run the new version; the migration's pod is counted while it may run."""
    statuses = {entry["name"]: entry["status"] for entry in upgrade.steps}
    rolled = frozenset(
        name for name in ROLL_ORDER if statuses.get(name, StepStatus.PENDING) != StepStatus.PENDING
    )
    migration = statuses.get(MIGRATION) == StepStatus.RUNNING
    return UpgradeStage(previous_version=upgrade.from_version, rolled=rolled, migration=migration)


def upgrade_stage(registry: Registry) -> UpgradeStage | None:
    """The stage of the registry's latest upgrade while it runs or halted towards the version the registry asks
    for; None otherwise (everything at ``harbor_version``). One query."""
    latest = (
        Upgrade.objects.filter(registry_id=registry.pk)
        .order_by("-created_at", "-id")
        .only("status", "from_version", "to_version", "steps")
        .first()
    )
    if latest is None or latest.status not in STAGED or latest.to_version != registry.harbor_version:
        return None
    return stage_of(latest)
