"""Celery tasks of upgrades and waves: each advances its row once and sends itself again while it is open."""

from __future__ import annotations

from celery import shared_task

from provisioning.upgrades import operation

DRIVE_UPGRADE_TASK = "provisioning.upgrades.tasks.drive_upgrade"


@shared_task(name=DRIVE_UPGRADE_TASK, acks_late=True, ignore_result=True)
def drive_upgrade(upgrade_id: int) -> str:
    """Advance one upgrade (not one of a wave's: the wave drives those); look again in a few seconds while open.
    A copy of the task that finds another driver on the upgrade stops there: that driver carries it on."""
    upgrade, drove = operation.try_advance(upgrade_id)
    if upgrade is None:
        return "gone"
    if not drove:
        return "driven elsewhere"
    if upgrade.is_open and upgrade.wave_id is None:
        operation.send_drive(upgrade.pk, upgrade.registry.cluster.queue, countdown=operation.POLL_SECONDS)
    return str(upgrade.status)


DRIVE_WAVE_TASK = "provisioning.upgrades.tasks.drive_wave"


@shared_task(name=DRIVE_WAVE_TASK, acks_late=True, ignore_result=True)
def drive_wave(wave_id: int) -> str:
    """Take the wave's next step; send itself again for when the wave wants to look next."""
    from django.utils import timezone

    from provisioning.models import WaveStatus
    from provisioning.upgrades import waves

    wave, drove = waves.try_advance_wave(wave_id)
    if wave is None:
        return "gone"
    if not drove:
        return "driven elsewhere"  # that driver sends the next step
    if wave.status == WaveStatus.RUNNING:
        due = wave.next_step_at or timezone.now()
        delay = max(1.0, (due - timezone.now()).total_seconds())
        drive_wave.apply_async(args=(wave_id,), countdown=min(delay, float(waves.POLL_SECONDS * 12)))
    return str(wave.status)
