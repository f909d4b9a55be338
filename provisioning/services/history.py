"""Housekeeping of the console's own history: idempotency keys past their use, old reconcile runs.

Deletes go in batches of primary keys, so a large backlog never holds one long transaction or one huge lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from provisioning.choices import RunStatus
from provisioning.models import IdempotencyKey, PrunedRuns, ReconcileRun

log = logging.getLogger(__name__)

IDEMPOTENCY_KEY_LIFETIME = timedelta(hours=24)
RUNS_KEPT_PER_REGISTRY = 20
BATCH_SIZE = 1000
OPEN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


@dataclass(frozen=True)
class Pruned:
    idempotency_keys: int
    runs: int


def expired_idempotency_keys(now: datetime) -> QuerySet[IdempotencyKey]:
    return IdempotencyKey.objects.filter(created_at__lt=now - IDEMPOTENCY_KEY_LIFETIME)


def prunable_runs(now: datetime, retention_days: int) -> QuerySet[ReconcileRun]:
    """Finished runs requested before the retention period, except each registry's latest
    ``RUNS_KEPT_PER_REGISTRY`` runs and any failed run that finished within the period."""
    cutoff = now - timedelta(days=retention_days)
    beyond_latest = (
        ReconcileRun.objects.annotate(
            newest_first=Window(
                RowNumber(),
                partition_by=[F("registry_id")],
                order_by=[F("requested_at").desc(), F("id").desc()],
            )
        )
        .filter(newest_first__gt=RUNS_KEPT_PER_REGISTRY)
        .values("pk")
    )
    return (
        ReconcileRun.objects.filter(pk__in=beyond_latest, requested_at__lt=cutoff)
        .exclude(status__in=OPEN_STATUSES)
        .exclude(Q(status=RunStatus.FAILED) & Q(finished_at__gte=cutoff))
    )


def delete_in_batches(queryset: QuerySet[Any], batch: int = BATCH_SIZE) -> int:
    """Delete what ``queryset`` selects, ``batch`` rows at a time; the number of its rows deleted."""
    model = queryset.model
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        _, per_model = model._default_manager.filter(pk__in=ids).delete()
        total += per_model.get(model._meta.label, 0)


def delete_runs_in_batches(queryset: QuerySet[ReconcileRun], batch: int = BATCH_SIZE) -> int:
    """Like :func:`delete_in_batches`, adding each batch's runs to :class:`PrunedRuns` by outcome in the same
    transaction, so the console's count of finished runs never falls."""
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:batch])
        if not ids:
            return total
        with transaction.atomic():
            batch_runs = ReconcileRun.objects.filter(pk__in=ids)
            outcomes = batch_runs.values("status", "error_class").annotate(n=Count("id")).order_by()
            for outcome in outcomes:
                tally, _ = PrunedRuns.objects.select_for_update().get_or_create(
                    status=outcome["status"], error_class=outcome["error_class"]
                )
                PrunedRuns.objects.filter(pk=tally.pk).update(count=F("count") + outcome["n"])
            _, per_model = batch_runs.delete()
        total += per_model.get(ReconcileRun._meta.label, 0)


def prune_history(now: datetime | None = None) -> Pruned:
    """Delete idempotency keys older than 24 hours and reconcile runs past ``RUN_RETENTION_DAYS``."""
    now = now or timezone.now()
    keys = delete_in_batches(expired_idempotency_keys(now))
    runs = delete_runs_in_batches(prunable_runs(now, settings.RUN_RETENTION_DAYS))
    log.info("history pruned: %d idempotency keys, %d reconcile runs", keys, runs)
    return Pruned(keys, runs)
