"""Upgrades: one registry's move to a newer Harbor, step by step, as a row people and automation can follow."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from provisioning.choices import WhoseMove


class UpgradeStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    HALTED = "halted", "Halted"
    ROLLED_BACK = "rolled_back", "Rolled back"


class StepStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class UpgradeQuerySet(models.QuerySet["Upgrade"]):
    def open(self) -> UpgradeQuerySet:
        return self.filter(status=UpgradeStatus.RUNNING)


class Upgrade(models.Model):
    """Pre-flight, the schema migration Job, then each component rolled and gated on readiness.

    ``steps`` is the plan and its progress: ``[{"name", "status", "message", "started_at", "finished_at"}]``.
    ``migration_started_at`` is set when the migration Job was created: from then on the schema may have moved, and
    the images can no longer be rolled back.
    """

    registry = models.ForeignKey("provisioning.Registry", on_delete=models.CASCADE, related_name="upgrades")
    wave = models.ForeignKey(
        "provisioning.Wave", null=True, blank=True, on_delete=models.SET_NULL, related_name="upgrades"
    )
    from_version = models.CharField(max_length=16)
    to_version = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=UpgradeStatus.choices, default=UpgradeStatus.RUNNING)
    step = models.CharField(max_length=16, blank=True, help_text="The step under way (or where it halted).")
    steps = models.JSONField(default=list, blank=True)
    budget_seconds = models.PositiveIntegerField(default=1800)
    deadline = models.DateTimeField(null=True, blank=True)
    migration_job = models.CharField(max_length=63, blank=True)
    migration_started_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it halted, or why a rollback was refused.")
    whose_move = models.CharField(max_length=16, choices=WhoseMove.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = UpgradeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry"],
                condition=models.Q(status="running"),
                name="upgrade_one_running_per_registry",
            )
        ]
        indexes = [models.Index(fields=["registry", "-created_at"])]

    def __str__(self) -> str:
        return f"upgrade of {self.registry_id} to {self.to_version} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == UpgradeStatus.RUNNING

    @property
    def migration_ran(self) -> bool:
        return self.migration_started_at is not None

    def step_entry(self, name: str) -> dict[str, Any]:
        return next(entry for entry in self.steps if entry["name"] == name)

    def set_step(self, name: str, status: str, message: str = "", now: Any = None) -> None:
        """Record a step's status; ``started_at``/``finished_at`` follow it."""
        entry = self.step_entry(name)
        stamp = (now or timezone.now()).isoformat()
        if status == StepStatus.RUNNING and not entry.get("started_at"):
            entry["started_at"] = stamp
        if status in (StepStatus.DONE, StepStatus.SKIPPED, StepStatus.FAILED):
            entry["finished_at"] = stamp
        entry["status"] = status
        if message or status != StepStatus.RUNNING:
            entry["message"] = message
        if status == StepStatus.RUNNING:
            self.step = name
