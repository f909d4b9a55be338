"""One registry's upgrade, step by step: ``start_upgrade``, ``advance`` (idempotent, level-based), ``resume`` and
``rollback``.

``advance`` looks at where the upgrade stands, does what that step needs (reconcile with the stage, create the
migration Job, read a component's readiness) and moves on as far as it can; it never sleeps. Whoever drives it (the
``drive_upgrade`` task, or a wave) calls it again later. Past its time budget an upgrade halts, saying which step
waited for what. Every change a person asks for is audited; what the operation itself concludes (finished,
halted) is audited as the system.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from provisioning import audit
from provisioning.choices import RunStatus, RunTrigger, Via, WhoseMove
from provisioning.kube import KubeError
from provisioning.models import Registry, StepStatus, Upgrade, UpgradeStatus
from provisioning.reconcile import Outcome, reconcile
from provisioning.reconcile.engine import cluster_gateway
from provisioning.reconcile.errors import classify
from provisioning.reconcile.readiness import workload_state
from provisioning.rendering.labels import COMPONENT_LABEL
from provisioning.rendering.upgrade import MIGRATION, ROLL_ORDER
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import refuse_if_gone, request_reconcile, sync_components
from provisioning.upgrades import migration_job
from provisioning.upgrades.driver_lock import driving
from provisioning.upgrades.preflight import preflight

logger = logging.getLogger("provisioning.upgrades")

PREFLIGHT = "preflight"
DEFAULT_BUDGET_SECONDS = 1800
POLL_SECONDS = 5.0
Reconcile = Callable[[int], Outcome]


def _reconcile(registry_id: int) -> Outcome:
    return reconcile(registry_id, trigger=RunTrigger.ACTION)


def plan_steps(registry: Registry) -> list[dict[str, Any]]:
    """Pre-flight, the migration, then each component the registry runs in ``ROLL_ORDER``."""
    trivy = registry.effective().trivy_enabled
    names = [PREFLIGHT, MIGRATION, *(c for c in ROLL_ORDER if c != "trivy" or trivy)]
    return [{"name": name, "status": StepStatus.PENDING, "message": ""} for name in names]


@transaction.atomic
def start_upgrade(
    registry: Registry,
    target: str,
    *,
    actor: Any,
    via: str,
    budget_seconds: int | None = None,
    wave_id: int | None = None,
    now: datetime | None = None,
    drive: bool = True,
) -> Upgrade:
    """Record the upgrade with its pre-flight. A failed pre-flight halts it at once and changes nothing else; a
    passed one points the registry at ``target`` (the stage keeps every component where it is) and starts it."""
    refuse_if_gone(registry, "upgraded")
    now = now or timezone.now()
    locked = Registry.objects.select_for_update().select_related("cluster").get(pk=registry.pk)
    for name in ("database", "cache", "storage"):
        setattr(locked, name, getattr(registry, name, None) or getattr(locked, name, None))
    checks = preflight(locked, target)
    failed = [check for check in checks if not check.ok]
    user = actor if getattr(actor, "is_authenticated", False) else None
    upgrade = Upgrade(
        registry=locked,
        wave_id=wave_id,
        from_version=locked.harbor_version,
        to_version=target,
        steps=plan_steps(locked),
        budget_seconds=budget_seconds or DEFAULT_BUDGET_SECONDS,
        requested_by=user,
        created_at=now,
    )
    upgrade.step_entry(PREFLIGHT)["checks"] = [check.as_dict() for check in checks]
    if failed:
        upgrade.set_step(PREFLIGHT, StepStatus.FAILED, " ".join(check.message for check in failed), now)
        upgrade.step = PREFLIGHT
        upgrade.status = UpgradeStatus.HALTED
        upgrade.reason = "Pre-flight failed: " + " ".join(check.message for check in failed)
        upgrade.whose_move = failed[0].whose_move or WhoseMove.PROVIDER
        upgrade.finished_at = now
        upgrade.save()
        # the attempt is audited as what happened, halted at pre-flight: not "upgrade", whose event
        # (registry.upgraded) would tell subscribers of a version change that did not happen
        audit.record(
            actor,
            via,
            "upgrade-halted",
            locked,
            changes={
                "upgrade": upgrade.pk,
                "to_version": target,
                "step": PREFLIGHT,
                "reason": upgrade.reason,
            },
        )
        return upgrade
    upgrade.set_step(PREFLIGHT, StepStatus.DONE, "Every check passed.", now)
    upgrade.set_step(MIGRATION, StepStatus.PENDING, "", now)
    upgrade.step = MIGRATION
    upgrade.deadline = now + timedelta(seconds=upgrade.budget_seconds)
    upgrade.save()
    before = locked.spec_snapshot()
    locked.harbor_version = target
    locked.generation = F("generation") + 1
    locked.save(update_fields=["harbor_version", "generation", "updated_at"])
    locked.refresh_from_db()
    sync_components(locked)
    audit.record(
        actor,
        via,
        "upgrade",
        locked,
        changes={**audit.diff(before, locked.spec_snapshot()), "upgrade": upgrade.pk},
    )
    if drive:
        queue = locked.cluster.queue
        transaction.on_commit(lambda: send_drive(upgrade.pk, queue))
    return upgrade


def send_drive(upgrade_id: int, queue: str, countdown: float = 0) -> None:
    from provisioning.upgrades.tasks import drive_upgrade

    drive_upgrade.apply_async(args=(upgrade_id,), countdown=countdown, queue=queue)


def advance(
    upgrade_id: int, *, now: datetime | None = None, reconcile_fn: Reconcile = _reconcile
) -> Upgrade | None:
    """Carry the upgrade as far as it can go now; returns it (None when it is gone). While another driver holds
    it, nothing is done and the upgrade is returned as that driver last saved it."""
    return try_advance(upgrade_id, now=now, reconcile_fn=reconcile_fn)[0]


def try_advance(
    upgrade_id: int, *, now: datetime | None = None, reconcile_fn: Reconcile = _reconcile
) -> tuple[Upgrade | None, bool]:
    """``advance`` as the upgrade's one driver (``driver_lock``); the flag says whether this call drove it (False:
    another driver holds it, and carries it on)."""
    with driving(upgrade_id) as held:
        if not held:
            return _load(upgrade_id), False
        return _advance(upgrade_id, now or timezone.now(), reconcile_fn), True


def _load(upgrade_id: int) -> Upgrade | None:
    return Upgrade.objects.select_related("registry", "registry__cluster").filter(pk=upgrade_id).first()


def _advance(upgrade_id: int, now: datetime, reconcile_fn: Reconcile) -> Upgrade | None:
    """Read the upgrade under the driver lock (what a previous driver saved), then take every step that is ready."""
    upgrade = _load(upgrade_id)
    if upgrade is None or not upgrade.is_open:
        return upgrade
    for _ in range(len(upgrade.steps) + 1):
        before = upgrade.step
        try:
            if upgrade.step == MIGRATION:
                _migrate(upgrade, now, reconcile_fn)
            elif upgrade.step in ROLL_ORDER:
                _roll(upgrade, now, reconcile_fn)
        except KubeError as error:
            failure = classify(error)
            if not failure.transient:
                halt(upgrade, f"Step {upgrade.step}: {failure.message}", failure.whose_move, now)
            else:
                _note(upgrade, upgrade.step, f"Retrying: {failure.message}")
            break
        if not upgrade.is_open or upgrade.step == before:
            break
    if upgrade.is_open and upgrade.deadline is not None and now >= upgrade.deadline:
        entry = upgrade.step_entry(upgrade.step)
        waiting = entry.get("message") or "no progress"
        halt(
            upgrade,
            f"The upgrade did not finish within its budget of {upgrade.budget_seconds} s: step {upgrade.step} was "
            f"still waiting ({waiting.rstrip('.')}). Look at the step, then resume the upgrade or roll it back.",
            WhoseMove.PROVIDER,
            now,
        )
    return upgrade


def _succeeded(outcome: Outcome, upgrade: Upgrade, now: datetime) -> bool:
    """The reconcile with the new stage went through; a permanent failure halts the upgrade."""
    if outcome.status == RunStatus.SUCCEEDED:
        return True
    if outcome.failure is not None and not outcome.failure.transient:
        halt(upgrade, f"Step {upgrade.step}: {outcome.failure.message}", outcome.failure.whose_move, now)
    else:
        message = outcome.failure.message if outcome.failure else outcome.message or outcome.status
        _note(upgrade, upgrade.step, f"Reconcile did not go through yet: {message}")
    return False


def _migrate(upgrade: Upgrade, now: datetime, reconcile_fn: Reconcile) -> None:
    registry = upgrade.registry
    gateway = cluster_gateway(registry.cluster)
    name = upgrade.migration_job or migration_job.job_name(registry)
    state = migration_job.read_job(gateway, registry.namespace, name)
    if not state.present:
        upgrade.set_step(MIGRATION, StepStatus.RUNNING, "Making room for the migration Job.", now)
        upgrade.save(update_fields=["step", "steps"])
        if not _succeeded(reconcile_fn(registry.pk), upgrade, now):
            return
        upgrade.migration_job = migration_job.create_job(gateway, registry.pk)
        upgrade.migration_started_at = upgrade.migration_started_at or now
        upgrade.set_step(
            MIGRATION, StepStatus.RUNNING, f"Migrating the schema (Job {upgrade.migration_job}).", now
        )
        upgrade.save(update_fields=["step", "steps", "migration_job", "migration_started_at"])
        state = migration_job.read_job(gateway, registry.namespace, upgrade.migration_job)
    if state.failed:
        halt(
            upgrade,
            f"The schema migration Job {name} failed: {state.message} Harbor {upgrade.from_version} still serves; "
            "the schema may be partly migrated. Read the Job's log, fix the cause, then resume the upgrade.",
            WhoseMove.PROVIDER,
            now,
        )
        return
    if not state.succeeded:
        _note(upgrade, MIGRATION, f"Migrating the schema (Job {name}): {state.message}")
        return
    upgrade.set_step(
        MIGRATION, StepStatus.DONE, f"Schema migrated to Harbor {upgrade.to_version} by Job {name}.", now
    )
    _next(upgrade, now)


def _roll(upgrade: Upgrade, now: datetime, reconcile_fn: Reconcile) -> None:
    """Reconcile once with the component moved (again only if that did not go through), then wait for it."""
    component = upgrade.step
    registry = upgrade.registry
    entry = upgrade.step_entry(component)
    if entry["status"] == StepStatus.PENDING:
        _begin(upgrade, component, now)
        upgrade.save(update_fields=["step", "steps"])
    applied_now = False
    if not entry.get(APPLIED):
        if not _succeeded(reconcile_fn(registry.pk), upgrade, now):
            return
        entry[APPLIED] = applied_now = True
    gateway = cluster_gateway(registry.cluster)
    workload = _workload(gateway, registry, component)
    if workload is None:
        _note(upgrade, component, f"The {component} workload is not on the cluster yet.", save=applied_now)
        return
    state = workload_state(workload)
    if state.rolled_out and state.available and state.version == upgrade.to_version:
        upgrade.set_step(
            component, StepStatus.DONE, f"{component} is Ready at Harbor {upgrade.to_version}.", now
        )
        _next(upgrade, now)
        return
    _note(upgrade, component, f"Waiting for {state.describe()}", save=applied_now)


STATEFUL = frozenset({"trivy"})
"""Components that run as a StatefulSet; every other one of ``ROLL_ORDER`` is a Deployment."""
APPLIED = "applied"
"""Set on a component's step once a reconcile with it moved went through: polls then only read its readiness."""


def _workload(gateway: Any, registry: Registry, component: str) -> dict[str, Any] | None:
    """The component's workload as the cluster has it now: its own kind first, the other only when not found."""
    kinds = ("StatefulSet", "Deployment") if component in STATEFUL else ("Deployment", "StatefulSet")
    for kind in kinds:
        obj = gateway.get("apps/v1", kind, f"{registry.name}-{component}", registry.namespace)
        if obj is not None and (obj["metadata"].get("labels") or {}).get(COMPONENT_LABEL) == component:
            return dict(obj)
    return None


def _begin(upgrade: Upgrade, component: str, now: datetime) -> None:
    upgrade.set_step(
        component, StepStatus.RUNNING, f"Rolling {component} to Harbor {upgrade.to_version}.", now
    )


def _next(upgrade: Upgrade, now: datetime) -> None:
    """Move to the next pending step (a component's begins at once: one save for both steps), or finish."""
    pending = [entry["name"] for entry in upgrade.steps if entry["status"] == StepStatus.PENDING]
    if pending:
        upgrade.step = pending[0]
        if upgrade.step in ROLL_ORDER:
            _begin(upgrade, upgrade.step, now)
        upgrade.save(update_fields=["step", "steps"])
        return
    _finish(upgrade, now)


def _finish(upgrade: Upgrade, now: datetime) -> None:
    registry = upgrade.registry
    upgrade.status, upgrade.step, upgrade.finished_at = UpgradeStatus.SUCCEEDED, "", now
    upgrade.save(update_fields=["status", "step", "steps", "finished_at"])
    if upgrade.migration_job:
        try:
            migration_job.delete_job(
                cluster_gateway(registry.cluster), registry.namespace, upgrade.migration_job
            )
        except KubeError as error:
            logger.warning("could not remove migration Job %s: %s", upgrade.migration_job, error)
    audit.record(
        "system", Via.SYSTEM, "upgrade-finished", registry, changes={"to_version": upgrade.to_version}
    )
    request_reconcile(registry, RunTrigger.ACTION, operation="upgrade")


def _note(upgrade: Upgrade, step: str, message: str, *, save: bool = False) -> None:
    """Say what the step waits for; saved when that changed (or ``save``: the steps changed otherwise)."""
    entry = upgrade.step_entry(step)
    if entry.get("message") != message or save:
        entry["message"] = message
        upgrade.save(update_fields=["steps"])


def halt(upgrade: Upgrade, reason: str, whose_move: str, now: datetime) -> None:
    """Stop the upgrade where it stands (its stage stays: nothing moves further) with the reason and whose move."""
    step = upgrade.step
    if step:
        entry = upgrade.step_entry(step)
        entry["status"], entry["message"], entry["finished_at"] = StepStatus.FAILED, reason, now.isoformat()
    upgrade.status, upgrade.reason = UpgradeStatus.HALTED, reason
    upgrade.whose_move, upgrade.finished_at = whose_move or WhoseMove.PROVIDER, now
    upgrade.save(update_fields=["status", "reason", "whose_move", "finished_at", "steps"])
    audit.record(
        "system", Via.SYSTEM, "upgrade-halted", upgrade.registry, changes={"step": step, "reason": reason}
    )


@transaction.atomic
def resume(
    upgrade: Upgrade, *, actor: Any, via: str, now: datetime | None = None, drive: bool = True
) -> Upgrade:
    """Try the halted step again with a fresh budget (a failed migration Job is removed so that it runs again)."""
    now = now or timezone.now()
    upgrade = Upgrade.objects.select_for_update().select_related("registry__cluster").get(pk=upgrade.pk)
    if upgrade.status != UpgradeStatus.HALTED:
        raise ActionRefused(
            f"This upgrade is {upgrade.get_status_display()}: only a halted one resumes.", "not_halted"
        )
    if upgrade.step == PREFLIGHT:
        raise ActionRefused(
            "This upgrade stopped at its pre-flight and changed nothing: start a new upgrade once the checks pass.",
            "preflight_failed",
        )
    if upgrade.registry.harbor_version != upgrade.to_version:
        raise ActionRefused(
            "The registry's version has changed since: start a new upgrade.", "version_changed"
        )
    entry = upgrade.step_entry(upgrade.step)
    if upgrade.step == MIGRATION and upgrade.migration_job:
        registry = upgrade.registry
        try:
            migration_job.delete_job(
                cluster_gateway(registry.cluster), registry.namespace, upgrade.migration_job
            )
        except KubeError as error:
            raise ActionRefused(
                f"The failed migration Job could not be removed: {error}", "cluster_error"
            ) from None
    entry["status"] = StepStatus.PENDING if upgrade.step in ROLL_ORDER else StepStatus.RUNNING
    entry["message"] = "Resumed."
    entry.pop(APPLIED, None)  # the step's reconcile runs again
    upgrade.status, upgrade.reason, upgrade.whose_move, upgrade.finished_at = (
        UpgradeStatus.RUNNING,
        "",
        "",
        None,
    )
    upgrade.deadline = now + timedelta(seconds=upgrade.budget_seconds)
    if upgrade.step in ROLL_ORDER:
        entry["status"] = StepStatus.RUNNING
    upgrade.save()
    audit.record(
        actor, via, "upgrade-resume", upgrade.registry, changes={"upgrade": upgrade.pk, "step": upgrade.step}
    )
    if drive and upgrade.wave_id is None:
        queue = upgrade.registry.cluster.queue
        transaction.on_commit(lambda: send_drive(upgrade.pk, queue))
    return upgrade


def rollback_refusal(upgrade: Upgrade) -> str | None:
    """Why the images cannot be rolled back, or None when they can."""
    if upgrade.status not in (UpgradeStatus.RUNNING, UpgradeStatus.HALTED):
        return f"This upgrade is {upgrade.get_status_display()}: there is nothing to roll back."
    if upgrade.migration_ran:
        started = upgrade.migration_started_at
        marker = upgrade.registry.cluster.backup_marker or "none recorded"
        return (
            f"The schema migration has run (Job {upgrade.migration_job}, started {started:%Y-%m-%d %H:%M} UTC): the "
            f"database holds Harbor {upgrade.to_version}'s schema, which Harbor {upgrade.from_version} cannot use and "
            "Harbor cannot migrate down. Rolling the images back would break the registry. Resume the upgrade, or "
            f"restore the database from its backup (cluster backup marker: {marker}) before going back."
        )
    return None


def rollback(upgrade: Upgrade, *, actor: Any, via: str) -> Upgrade:
    """Put every component back on ``from_version`` while the schema is untouched; refused (nothing changes)
    once the migration has run, or while a driver is taking a step (it could write the migration Job meanwhile)."""
    with driving(upgrade.pk) as held:
        if not held:
            raise ActionRefused(
                "This upgrade is taking a step right now (its migration Job or a component may be moving): try "
                "again in a few seconds, once the step is recorded.",
                "being_driven",
            )
        return _rollback(upgrade, actor=actor, via=via)


@transaction.atomic
def _rollback(upgrade: Upgrade, *, actor: Any, via: str) -> Upgrade:
    upgrade = Upgrade.objects.select_for_update().select_related("registry__cluster").get(pk=upgrade.pk)
    refusal = rollback_refusal(upgrade)
    if refusal:
        raise ActionRefused(refusal, "migration_ran" if upgrade.migration_ran else "not_open")
    registry = Registry.objects.select_for_update().get(pk=upgrade.registry_id)
    before = registry.spec_snapshot()
    upgrade.status, upgrade.finished_at = UpgradeStatus.ROLLED_BACK, timezone.now()
    upgrade.reason = upgrade.reason or "Rolled back before the schema migration ran."
    upgrade.save(update_fields=["status", "finished_at", "reason"])
    if registry.harbor_version != upgrade.from_version:
        registry.harbor_version = upgrade.from_version
        registry.generation = F("generation") + 1
        registry.save(update_fields=["harbor_version", "generation", "updated_at"])
        registry.refresh_from_db()
        sync_components(registry)
    audit.record(
        actor,
        via,
        "upgrade-rollback",
        registry,
        changes={**audit.diff(before, registry.spec_snapshot()), "upgrade": upgrade.pk},
    )
    request_reconcile(registry, RunTrigger.ACTION, actor=actor, operation="rollback")
    return upgrade
