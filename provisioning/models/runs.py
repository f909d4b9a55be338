"""Reconcile runs: one row per reconciliation of a registry, from the request to the outcome."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from provisioning.choices import ErrorClass, RunStatus, RunTrigger, WhoseMove


class ReconcileRunQuerySet(models.QuerySet["ReconcileRun"]):
    def open(self) -> ReconcileRunQuerySet:
        return self.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING])

    def failed(self) -> ReconcileRunQuerySet:
        return self.filter(status=RunStatus.FAILED)


class ReconcileRun(models.Model):
    registry = models.ForeignKey("provisioning.Registry", on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=16, choices=RunTrigger.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    operation = models.CharField(
        max_length=32, blank=True, help_text="The action that asked for this run, if any."
    )
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    generation = models.PositiveBigIntegerField(default=0)
    attempt = models.PositiveSmallIntegerField(default=1)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    trace_id = models.CharField(
        max_length=32,
        blank=True,
        editable=False,
        help_text="OpenTelemetry trace id of the run (32 hex digits); empty when tracing is off.",
    )
    error_class = models.CharField(max_length=32, choices=ErrorClass.choices, blank=True)
    error_message = models.TextField(blank=True)
    whose_move = models.CharField(max_length=16, choices=WhoseMove.choices, blank=True)
    actions = models.JSONField(default=list, blank=True, help_text="What the run changed, object by object.")

    objects = ReconcileRunQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["registry", "-requested_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["error_class"]),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.registry_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)


class PrunedRuns(models.Model):
    """How many finished runs of each outcome the history pruning deleted, so that counting the runs recorded
    plus these never falls (the console's ``harborconsole_reconcile_runs_finished_total`` is a real counter)."""

    status = models.CharField(max_length=16, choices=RunStatus.choices)
    error_class = models.CharField(max_length=32, choices=ErrorClass.choices, blank=True)
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["status", "error_class"], name="pruned_runs_unique_outcome")
        ]

    def __str__(self) -> str:
        return f"{self.count} pruned {self.status} runs {self.error_class}".strip()
