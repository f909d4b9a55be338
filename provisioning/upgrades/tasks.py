"""Celery tasks of upgrades and waves: each advances its row once and sends itself again while it is open."""

from __future__ import annotations

from celery import shared_task

from provisioning.upgrades import operation

DRIVE_UPGRADE_TASK = "provisioning.upgrades.tasks.drive_upgrade"


@shared_task(name=DRIVE_UPGRADE_TASK, acks_late=True, ignore_result=True)
def drive_upgrade(upgrade_id: int) -> str:
    """Advance one upgrade (not one of a wave's: the wave drives those); look again in a few seconds while open."""
    upgrade = operation.advance(upgrade_id)
    if upgrade is None:
        return "gone"
    if upgrade.is_open and upgrade.wave_id is None:
        operation.send_drive(upgrade.pk, upgrade.registry.cluster.queue, countdown=operation.POLL_SECONDS)
    return str(upgrade.status)
