"""Waves: plan the batches, then advance them one step at a time (``advance_wave``), each batch's upgrades driven
by the wave and the batch gated on Prometheus before the next one starts.

A batch runs through UPGRADING (its registries' upgrades advance together), GATING (a window after the last of them
finished, the gate compares each registry with itself before), then PASSED (the next batch starts after the pause)
or FAILED: the wave halts and says which registries failed and why. ``resume`` accepts the failed batch and goes
on; ``abort`` stops the wave (upgrades under way halt where they are, to be resumed or rolled back one by one).
``advance_wave`` takes ``now``, so a test can move the wave's clock; the task passes none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from monitoring.prometheus import PrometheusSource
from provisioning import audit, catalogue
from provisioning.choices import DesiredState, Via, WhoseMove
from provisioning.models import (
    BatchStatus,
    Registry,
    Upgrade,
    UpgradeStatus,
    Wave,
    WaveBatch,
    WaveMember,
    WaveStatus,
)
from provisioning.services.errors import ActionRefused
from provisioning.upgrades import gate, operation
from provisioning.upgrades.driver_lock import WAVE_SPACE, driving

logger = logging.getLogger("provisioning.upgrades")

POLL_SECONDS = 5
SELECTORS = ("from_version", "plan", "cluster", "tenant")
Source = Callable[[], PrometheusSource]


def candidates(wave: Wave) -> QuerySet[Registry]:
    """Running registries the selectors pick that may move to the wave's target (the catalogue's rules)."""
    registries = (
        Registry.objects.live()
        .filter(desired_state=DesiredState.RUNNING)
        .exclude(harbor_version=wave.target_version)
    )
    if wave.from_version:
        registries = registries.filter(harbor_version=wave.from_version)
    for name in ("plan", "cluster", "tenant"):
        value = getattr(wave, f"{name}_id")
        if value is not None:
            registries = registries.filter(**{f"{name}_id": value})
    allowed = [
        version
        for version in registries.order_by().values_list("harbor_version", flat=True).distinct()
        if catalogue.upgrade_refusal(version, wave.target_version) is None
    ]
    return registries.filter(harbor_version__in=allowed).order_by("pk")


@transaction.atomic
def plan_wave(wave: Wave, *, actor: Any, via: str) -> Wave:
    """Validate and save ``wave`` with its batches of the registries it selects; refused when it selects none."""
    wave.full_clean()
    ids = list(candidates(wave).values_list("pk", flat=True))
    if not ids:
        raise ActionRefused(
            "No running registry matches this selection and may move to Harbor "
            f"{wave.target_version}: widen the selection or choose another target.",
            "empty_wave",
            status=400,
        )
    wave.created_by = actor if getattr(actor, "is_authenticated", False) else None
    wave.save()
    size = wave.batch_size
    batches = WaveBatch.objects.bulk_create(
        [WaveBatch(wave=wave, index=index) for index in range((len(ids) + size - 1) // size)]
    )
    WaveMember.objects.bulk_create(
        [WaveMember(batch=batches[position // size], registry_id=pk) for position, pk in enumerate(ids)]
    )
    audit.record(
        actor,
        via,
        "wave-plan",
        wave,
        changes={"target_version": wave.target_version, "registries": len(ids), "batches": len(batches)},
    )
    return wave


def _enqueue(wave_id: int, countdown: float = 0) -> None:
    from provisioning.upgrades.tasks import drive_wave

    drive_wave.apply_async(args=(wave_id,), countdown=countdown)


@transaction.atomic
def start_wave(wave: Wave, *, actor: Any, via: str, drive: bool = True) -> Wave:
    wave = Wave.objects.select_for_update().get(pk=wave.pk)
    if wave.status != WaveStatus.PLANNED:
        raise ActionRefused(
            f"This wave is {wave.get_status_display()}: only a planned wave starts.", "not_planned"
        )
    wave.status, wave.started_at, wave.next_step_at = WaveStatus.RUNNING, timezone.now(), timezone.now()
    wave.save(update_fields=["status", "started_at", "next_step_at"])
    audit.record(actor, via, "wave-start", wave)
    if drive:
        transaction.on_commit(lambda: _enqueue(wave.pk))
    return wave


@transaction.atomic
def resume_wave(wave: Wave, *, actor: Any, via: str, drive: bool = True) -> Wave:
    """Accept the failed batch (its halted upgrades stay for a person) and go on with the next one."""
    wave = Wave.objects.select_for_update().get(pk=wave.pk)
    if wave.status != WaveStatus.HALTED:
        raise ActionRefused(
            f"This wave is {wave.get_status_display()}: only a halted wave resumes.", "not_halted"
        )
    failed = wave.batches.filter(status=BatchStatus.FAILED).first()
    if failed is not None:
        failed.status = BatchStatus.ACCEPTED
        failed.save(update_fields=["status"])
    wave.status, wave.reason, wave.next_step_at = WaveStatus.RUNNING, "", timezone.now()
    wave.save(update_fields=["status", "reason", "next_step_at"])
    audit.record(
        actor, via, "wave-resume", wave, changes={"accepted_batch": failed.number if failed else None}
    )
    if drive:
        transaction.on_commit(lambda: _enqueue(wave.pk))
    return wave


@transaction.atomic
def abort_wave(wave: Wave, *, actor: Any, via: str) -> Wave:
    wave = Wave.objects.select_for_update().get(pk=wave.pk)
    if wave.status not in (WaveStatus.PLANNED, WaveStatus.RUNNING, WaveStatus.HALTED):
        raise ActionRefused(
            f"This wave is {wave.get_status_display()}: there is nothing to abort.", "not_open"
        )
    now = timezone.now()
    for upgrade in Upgrade.objects.open().filter(wave=wave).select_related("registry"):
        operation.halt(
            upgrade,
            "The wave was aborted: resume or roll back this upgrade by itself.",
            WhoseMove.PROVIDER,
            now,
        )
    wave.batches.filter(status=BatchStatus.PENDING).update(status=BatchStatus.SKIPPED)
    wave.status, wave.finished_at, wave.next_step_at = WaveStatus.ABORTED, now, None
    wave.reason = wave.reason or "Aborted."
    wave.save(update_fields=["status", "finished_at", "next_step_at", "reason"])
    audit.record(actor, via, "wave-abort", wave)
    return wave


def advance_wave(
    wave_id: int,
    *,
    now: datetime | None = None,
    reconcile_fn: operation.Reconcile | None = None,
    source: Source = PrometheusSource.from_settings,
) -> Wave | None:
    """Take the wave's next step if it is due; returns the wave (None when it is gone)."""
    return try_advance_wave(wave_id, now=now, reconcile_fn=reconcile_fn, source=source)[0]


def try_advance_wave(
    wave_id: int,
    *,
    now: datetime | None = None,
    reconcile_fn: operation.Reconcile | None = None,
    source: Source = PrometheusSource.from_settings,
) -> tuple[Wave | None, bool]:
    """``advance_wave`` as the wave's one driver; the flag says whether this call drove it (False: another driver
    holds it and carries it on, nothing was done)."""
    with driving(wave_id, WAVE_SPACE) as held:
        if not held:
            return Wave.objects.filter(pk=wave_id).first(), False
        return _advance_wave(wave_id, now or timezone.now(), reconcile_fn, source), True


def _advance_wave(
    wave_id: int, now: datetime, reconcile_fn: operation.Reconcile | None, source: Source
) -> Wave | None:
    wave = Wave.objects.filter(pk=wave_id).first()
    if wave is None or wave.status != WaveStatus.RUNNING:
        return wave
    if wave.next_step_at is not None and now < wave.next_step_at:
        return wave
    batch = (
        wave.batches.filter(status__in=[BatchStatus.UPGRADING, BatchStatus.GATING]).first()
        or wave.batches.filter(status=BatchStatus.PENDING).first()
    )
    if batch is None:
        _finish(wave, now)
        return wave
    if batch.status == BatchStatus.PENDING:
        _start_batch(wave, batch, now)
    if batch.status == BatchStatus.UPGRADING:
        _upgrade_batch(wave, batch, now, reconcile_fn)
    elif batch.status == BatchStatus.GATING:
        _gate_batch(wave, batch, now, source())
    return wave


def _members(batch: WaveBatch) -> list[WaveMember]:
    return list(batch.members.select_related("registry", "registry__cluster", "upgrade"))


def _start_batch(wave: Wave, batch: WaveBatch, now: datetime) -> None:
    batch.status, batch.started_at = BatchStatus.UPGRADING, now
    batch.save(update_fields=["status", "started_at"])
    members = _members(batch)
    registries = Registry.objects.select_related("database", "cache", "storage", "cluster").in_bulk(
        [member.registry_id for member in members]
    )
    for member in members:
        member.upgrade = operation.start_upgrade(
            registries[member.registry_id],
            wave.target_version,
            actor="system",
            via=Via.SYSTEM,
            budget_seconds=wave.upgrade_budget_seconds,
            wave_id=wave.pk,
            now=now,
            drive=False,
        )
    WaveMember.objects.bulk_update(members, ["upgrade"])


def _upgrade_batch(
    wave: Wave, batch: WaveBatch, now: datetime, reconcile_fn: operation.Reconcile | None
) -> None:
    kwargs = {"reconcile_fn": reconcile_fn} if reconcile_fn is not None else {}
    upgrades: list[tuple[Registry, Upgrade]] = []
    for member in _members(batch):
        upgrade = member.upgrade
        if upgrade is not None and upgrade.is_open:
            upgrade = operation.advance(upgrade.pk, now=now, **kwargs)
        if upgrade is not None:
            upgrades.append((member.registry, upgrade))
    failed = [
        (registry, upgrade)
        for registry, upgrade in upgrades
        if upgrade.status != UpgradeStatus.SUCCEEDED and not upgrade.is_open
    ]
    if failed:
        named = "; ".join(f"{registry}: {upgrade.reason}" for registry, upgrade in failed)
        _fail(wave, batch, now, f"{len(failed)} upgrade(s) did not finish — {named}")
        return
    if all(upgrade.status == UpgradeStatus.SUCCEEDED for _, upgrade in upgrades):
        batch.status, batch.upgraded_at = BatchStatus.GATING, now
        batch.save(update_fields=["status", "upgraded_at"])
        wave.next_step_at = now + timedelta(seconds=wave.window_seconds)
    else:
        wave.next_step_at = now + timedelta(seconds=POLL_SECONDS)
    wave.save(update_fields=["next_step_at"])


def _gate_batch(wave: Wave, batch: WaveBatch, now: datetime, source: PrometheusSource) -> None:
    assert batch.started_at is not None and batch.upgraded_at is not None
    namespaces = {member.registry.namespace: str(member.registry) for member in _members(batch)}
    verdict = gate.evaluate(
        source,
        sorted(namespaces),
        before_at=batch.started_at,
        after_at=batch.upgraded_at + timedelta(seconds=wave.window_seconds),
        window=wave.window_seconds,
        error_margin=wave.error_ratio_margin,
        latency_margin=wave.latency_margin,
    )
    batch.gated_at, batch.figures = now, verdict.figures
    if verdict.passed:
        batch.status, batch.reason = BatchStatus.PASSED, verdict.reason
        batch.save(update_fields=["status", "reason", "gated_at", "figures"])
        wave.next_step_at = now + timedelta(seconds=wave.pause_seconds)
        wave.save(update_fields=["next_step_at"])
        return
    batch.save(update_fields=["gated_at", "figures"])
    if verdict.failing:
        named = "; ".join(f"{namespaces[ns]}: {why}" for ns, why in sorted(verdict.failing.items()))
        _fail(
            wave,
            batch,
            now,
            f"the gate failed for {len(verdict.failing)} of {len(namespaces)} registries — {named}",
        )
    else:
        _fail(wave, batch, now, verdict.reason)


def _fail(wave: Wave, batch: WaveBatch, now: datetime, why: str) -> None:
    batch.status, batch.reason = BatchStatus.FAILED, why
    batch.save(update_fields=["status", "reason"])
    wave.status, wave.next_step_at = WaveStatus.HALTED, None
    wave.reason = f"Batch {batch.number} failed: {why}. Resume to accept it and go on, or abort the wave."
    wave.save(update_fields=["status", "next_step_at", "reason"])
    audit.record("system", Via.SYSTEM, "wave-halted", wave, changes={"batch": batch.number, "reason": why})


def _finish(wave: Wave, now: datetime) -> None:
    wave.status, wave.finished_at, wave.next_step_at = WaveStatus.SUCCEEDED, now, None
    wave.save(update_fields=["status", "finished_at", "next_step_at"])
    audit.record("system", Via.SYSTEM, "wave-finished", wave)
