"""Celery tasks of the provisioning app. They take ids, re-read rows and tolerate a row that is gone.

Every task acknowledges late (a worker lost mid-run gets its message redelivered) and is idempotent: a
redelivered run reconciles again, which converges to the same state. Retries are new runs sent with a countdown,
never a sleep in a worker. A reconcile refused by the registry's lock is never dropped: the holder runs once more
when it finishes, or ``reconcile_requested`` does once a dead holder's lock has lapsed (see
``provisioning.reconcile.lock``).
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import task_revoked
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from provisioning import external
from provisioning.choices import Phase, RunStatus, RunTrigger, WhoseMove
from provisioning.events import hooks as event_hooks
from provisioning.events.retention import prune_events
from provisioning.models import Cluster, ReconcileRun, Registry
from provisioning.reconcile import Outcome, reconcile
from provisioning.reconcile.lock import holding, lock_holder, registry_lock
from provisioning.services import cluster_probe, history

logger = logging.getLogger("provisioning.tasks")

RECONCILE_TASK = "provisioning.tasks.reconcile_registry"
REQUESTED_TASK = "provisioning.tasks.reconcile_requested"
EXPIRED = "The run expired before a worker took it."
WORKER_LOST = "The worker running this run stopped before it finished."


def backoff_seconds(attempt: int, floor: float | None = None) -> float:
    """Exponential backoff with jitter for the ``attempt``-th try (1 = the first retry), capped at the sweep."""
    base = settings.RECONCILE_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    ceiling = float(settings.SWEEP_INTERVAL_SECONDS)
    delay = min(base, ceiling)
    delay = delay / 2 + random.uniform(0, delay / 2)
    return max(delay, floor or 0.0)


def _queue_of(registry_id: int) -> str | None:
    return Registry.objects.filter(pk=registry_id).values_list("cluster__queue", flat=True).first()


def send_reconcile(
    registry_id: int,
    *,
    run_id: int | None = None,
    trigger: str = RunTrigger.MANUAL,
    attempt: int = 1,
    countdown: float = 0,
    queue: str | None = None,
    expires: float | None = None,
) -> None:
    """Send one ``reconcile_registry`` onto the registry's cluster queue."""
    queue = queue or _queue_of(registry_id)
    if queue is None:
        return
    options: dict[str, Any] = {"queue": queue}
    if countdown:
        options["countdown"] = countdown
    if expires:
        options["expires"] = expires
    reconcile_registry.apply_async(
        args=(registry_id,), kwargs={"run_id": run_id, "trigger": trigger, "attempt": attempt}, **options
    )


def carry_out_requests(outcome: Outcome) -> str:
    """Send what a run owes to requests the lock refused: the deferred check it claimed when it was refused, or
    one more run now when requests (or a change) came in while it held the lock. Returns which (or ``none``)."""
    if outcome.check_after is not None:
        queue = _queue_of(outcome.registry_id)
        if queue is not None:
            reconcile_requested.apply_async(
                args=(outcome.registry_id,), queue=queue, countdown=outcome.check_after
            )
        return "check"
    if outcome.changed_meanwhile or outcome.requested_meanwhile:
        trigger = RunTrigger.CHANGED if outcome.changed_meanwhile else RunTrigger.DEFERRED
        send_reconcile(outcome.registry_id, trigger=trigger)
        return "now"
    return "none"


def schedule_next(outcome: Outcome, attempt: int) -> str:
    """Decide what follows a run: nothing, a run now, a retry with backoff, or a follow-up look. Returns which."""
    if carry_out_requests(outcome) == "now":
        return "now"
    if attempt > settings.RECONCILE_MAX_RETRIES:
        return "none"
    if outcome.should_retry:
        assert outcome.failure is not None
        delay = backoff_seconds(attempt, outcome.failure.retry_after)
        send_reconcile(outcome.registry_id, trigger=RunTrigger.RETRY, attempt=attempt + 1, countdown=delay)
        return "retry"
    if outcome.follow_up:
        delay = backoff_seconds(attempt)
        send_reconcile(
            outcome.registry_id, trigger=RunTrigger.FOLLOW_UP, attempt=attempt + 1, countdown=delay
        )
        return "follow_up"
    return "none"


@shared_task(name=RECONCILE_TASK, acks_late=True, ignore_result=True)
def reconcile_registry(
    registry_id: int, run_id: int | None = None, trigger: str = RunTrigger.MANUAL, attempt: int = 1
) -> str:
    """Reconcile one registry; transient failures come back with backoff, permanent ones stop and say why."""
    outcome = reconcile(registry_id, run_id, trigger=trigger, attempt=attempt)
    if outcome.status == RunStatus.SKIPPED:
        carry_out_requests(outcome)
        return outcome.status
    next_step = schedule_next(outcome, attempt)
    logger.info(
        "reconciled registry %s (run %s): %s, phase %s, next %s",
        registry_id,
        outcome.run_id,
        outcome.status,
        outcome.phase,
        next_step,
    )
    return outcome.status


@shared_task(name=REQUESTED_TASK, acks_late=True, ignore_result=True)
def reconcile_requested(registry_id: int) -> str:
    """The deferred check: a reconcile asked for while another run held the lock, unless it ran meanwhile.

    Scheduled for when the holder's lock would lapse; a holder that finished has taken the request already (nothing
    to do, no run recorded). A holder still working (its heartbeat keeps the lock) makes this run skip again and
    claim the next check; a dead one's lock has lapsed, so this run carries the request out.
    """
    lock = registry_lock(registry_id)
    lock.forget_check()
    if not lock.requested():
        return "none"
    return reconcile_registry(registry_id, trigger=RunTrigger.DEFERRED)


@task_revoked.connect
def _close_expired_run(sender: Any = None, request: Any = None, expired: bool = False, **kwargs: Any) -> None:
    """A sweep's run whose task expired unstarted is recorded as skipped, so it no longer counts as queued."""
    if getattr(sender, "name", "") != RECONCILE_TASK or request is None:
        return
    run_id = (getattr(request, "kwargs", None) or {}).get("run_id")
    if run_id:
        message = EXPIRED if expired else "The run was revoked before it started."
        ReconcileRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
            status=RunStatus.SKIPPED, error_message=message, finished_at=timezone.now()
        )


def close_stale_runs(now: Any = None) -> tuple[int, int]:
    """Queued runs older than two sweeps never started; a run running for longer than the lock's TTL whose
    registry's lock it no longer holds lost its worker (a live run keeps its lock with a heartbeat)."""
    now = now or timezone.now()
    queued_before = now - timedelta(seconds=2 * settings.SWEEP_INTERVAL_SECONDS)
    running_before = now - timedelta(seconds=settings.RECONCILE_LOCK_TTL_SECONDS)
    expired = ReconcileRun.objects.filter(status=RunStatus.QUEUED, requested_at__lt=queued_before).update(
        status=RunStatus.SKIPPED, error_message=EXPIRED, finished_at=now
    )
    candidates = ReconcileRun.objects.filter(status=RunStatus.RUNNING, started_at__lt=running_before)
    gone = [
        pk
        for pk, registry_id in candidates.values_list("pk", "registry_id")
        if lock_holder(registry_id) != f"run-{pk}"
    ]
    lost = ReconcileRun.objects.filter(pk__in=gone, status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        error_class="INTERNAL",
        whose_move=WhoseMove.TRANSIENT,
        error_message=WORKER_LOST,
        finished_at=now,
    )
    return expired, lost


SWEEP_BATCH_TASK = "provisioning.tasks.reconcile_batch"


@shared_task(name="provisioning.tasks.sweep_fleet", acks_late=True, ignore_result=True)
def sweep_fleet() -> int:
    """Fan out the live registries onto their clusters' queues in batches of ``SWEEP_BATCH_SIZE``; each batch
    expires before the next sweep. No run row is written up front: a sweep's run is recorded only when it does
    something (a quiet one is counted on its registry). Returns how many registries were sent."""
    close_stale_runs()
    queued = ReconcileRun.objects.filter(registry=OuterRef("pk"), status=RunStatus.QUEUED)
    targets = list(
        Registry.objects.live().filter(~Exists(queued)).order_by("pk").values_list("pk", "cluster__queue")
    )
    by_queue: dict[str, list[int]] = {}
    for pk, queue in targets:
        by_queue.setdefault(queue, []).append(pk)
    size = settings.SWEEP_BATCH_SIZE
    expires = settings.SWEEP_INTERVAL_SECONDS * 0.9
    from harborconsole.celery import app

    batches = 0
    with app.producer_or_acquire() as producer:
        for queue, ids in by_queue.items():
            for start in range(0, len(ids), size):
                reconcile_batch.apply_async(
                    args=(ids[start : start + size],), queue=queue, expires=expires, producer=producer
                )
                batches += 1
    logger.info("fleet sweep: %d registries queued in %d batches", len(targets), batches)
    return len(targets)


@shared_task(name=SWEEP_BATCH_TASK, acks_late=True, ignore_result=True)
def reconcile_batch(registry_ids: list[int]) -> int:
    """Reconcile each registry of a sweep's batch in turn, as ``reconcile_registry`` would; one that breaks does not
    stop the others. Returns how many were reconciled."""
    done = 0
    for registry_id in registry_ids:
        try:
            reconcile_registry(registry_id, trigger=RunTrigger.SWEEP)
            done += 1
        except Exception:
            logger.exception("sweep of registry %s failed", registry_id)
    return done


@shared_task(name="provisioning.tasks.probe_clusters", acks_late=True, ignore_result=True)
def probe_clusters() -> int:
    """Every sweep interval (its beat entry): send one probe per cluster that nothing contacted lately (typically
    one without registries, :mod:`provisioning.services.cluster_probe`) to the cluster's queue, expiring before the
    next round. Returns how many were sent."""
    from harborconsole.celery import app

    expires = settings.SWEEP_INTERVAL_SECONDS * 0.9
    quiet = list(cluster_probe.quiet_clusters().values_list("pk", "queue"))
    with app.producer_or_acquire() as producer:
        for pk, queue in quiet:
            probe_cluster.apply_async(args=(pk,), queue=queue, expires=expires, producer=producer)
    if quiet:
        logger.info("cluster probe: %d quiet clusters to probe", len(quiet))
    return len(quiet)


@shared_task(name="provisioning.tasks.probe_cluster", acks_late=True, ignore_result=True)
def probe_cluster(cluster_id: int) -> bool | None:
    """Probe one quiet cluster and record the contact: True reachable, False not, None nothing learned."""
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return None
    contact = cluster_probe.probe_cluster(cluster)
    return None if contact is None else contact.reachable


@shared_task(name="provisioning.tasks.prune_history", ignore_result=True)
def prune_history() -> dict[str, int]:
    """Daily: forget idempotency keys past 24 hours, reconcile runs and events past ``RUN_RETENTION_DAYS``."""
    pruned = history.prune_history()
    events = prune_events()
    return {"idempotency_keys": pruned.idempotency_keys, "runs": pruned.runs, "events": events}


@shared_task(name="provisioning.tasks.purge_registry", acks_late=True, ignore_result=True)
def purge_registry(registry_id: int, run_id: int | None = None, force: bool = False, attempt: int = 1) -> str:
    """Remove a deleted registry's data for good (database, cache, bucket), then mark it Purged.

    A bucket still holding objects is removed only with ``force``.
    """
    registry = Registry.objects.select_related("cluster").filter(pk=registry_id).first()
    if registry is None:
        return RunStatus.SKIPPED
    run = ReconcileRun.objects.filter(pk=run_id).first() if run_id else None
    if run is None:
        run = ReconcileRun.objects.create(
            registry=registry, trigger=RunTrigger.ACTION, operation="purge", generation=registry.generation
        )
    if run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
        return run.status
    with holding(registry_id, holder=f"run-{run.pk}") as lock:
        if lock is None:
            countdown = backoff_seconds(attempt)
            purge_registry.apply_async(
                args=(registry_id,),
                kwargs={"run_id": run.pk, "force": force, "attempt": attempt + 1},
                queue=registry.cluster.queue,
                countdown=countdown,
            )
            return RunStatus.QUEUED
        return _purge(registry, run, attempt, force)


def _purge(registry: Registry, run: ReconcileRun, attempt: int, force: bool) -> str:
    started = timezone.now()
    run.status, run.started_at = RunStatus.RUNNING, started
    run.save(update_fields=["status", "started_at"])
    registry.refresh_from_db()
    if registry.phase == Phase.PURGED:
        return _finish_purge_run(run, RunStatus.SUCCEEDED, "Already purged.")
    if registry.phase != Phase.DELETED:
        return _finish_purge_run(
            run,
            RunStatus.FAILED,
            f"{registry} is {registry.phase}, not Deleted: its stack must be gone before its data is purged.",
            error_class="INVALID_SPEC",
            whose_move=WhoseMove.PROVIDER,
        )
    try:
        external.purge_dependencies(registry, force=force)
    except external.DependencyError as error:
        transient = error.error_class == "DEPENDENCY_UNREACHABLE"
        status = _finish_purge_run(
            run,
            RunStatus.FAILED,
            f"The purge failed: {error.message}",
            error_class=error.error_class,
            whose_move=WhoseMove.TRANSIENT if transient else error.whose_move,
        )
        if transient and attempt <= settings.RECONCILE_MAX_RETRIES:
            purge_registry.apply_async(
                args=(registry.pk,),
                kwargs={"force": force, "attempt": attempt + 1},
                queue=registry.cluster.queue,
                countdown=backoff_seconds(attempt),
            )
        return status
    now = timezone.now()
    registry.set_phase(Phase.PURGED, now)
    registry.purged_at = now
    registry.conditions = [
        {
            "type": "Available",
            "status": "False",
            "reason": "Purged",
            "message": "The registry is purged: its database, cache and bucket are removed.",
            "whose_move": "",
            "since": now.isoformat(),
        }
    ]
    with transaction.atomic():
        registry.save(update_fields=["phase", "phase_since", "purged_at", "conditions"])
        event_hooks.phase_changed(registry.pk, Phase.DELETED, Phase.PURGED, run_id=run.pk)
    return _finish_purge_run(run, RunStatus.SUCCEEDED, "")


def _finish_purge_run(
    run: ReconcileRun, status: str, message: str, *, error_class: str = "", whose_move: str = ""
) -> str:
    now = timezone.now()
    run.status = status
    run.finished_at = now
    run.duration_ms = round((now - (run.started_at or now)).total_seconds() * 1000, 1)
    run.error_message = message if status != RunStatus.SUCCEEDED or message else ""
    run.error_class = error_class
    run.whose_move = whose_move
    run.actions = [{"action": "purge", "detail": message or "database, cache and bucket removed"}]
    run.save()
    event_hooks.run_finished(run)
    return status


from provisioning.services import bulk as _bulk_tasks  # noqa: E402, F401  (registers the bulk fan-outs)
from provisioning.upgrades import tasks as _upgrade_tasks  # noqa: E402, F401  (registers them)
