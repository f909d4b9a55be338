"""Waves: many registries upgraded batch after batch, each batch gated on what Prometheus saw of it."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from provisioning import catalogue


class WaveStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    HALTED = "halted", "Halted"
    SUCCEEDED = "succeeded", "Succeeded"
    ABORTED = "aborted", "Aborted"


class BatchStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    UPGRADING = "upgrading", "Upgrading"
    GATING = "gating", "Waiting for the gate window"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    ACCEPTED = "accepted", "Failed, accepted on resume"
    SKIPPED = "skipped", "Not run (aborted)"


class Wave(models.Model):
    """Registries chosen by version, plan, cluster or tenant, upgraded to ``target_version`` in batches of
    ``batch_size`` with ``pause_seconds`` between them. A batch passes when, over ``window_seconds`` after its
    upgrade, each of its registries' 5xx ratio is at most ``error_ratio_margin`` above, and its p95 latency at most
    ``latency_margin`` (a fraction) above, what they were over the same window before."""

    PLANNED_FIELDS = (
        "name",
        "target_version",
        "from_version",
        "plan",
        "cluster",
        "tenant",
        "batch_size",
        "pause_seconds",
        "window_seconds",
        "error_ratio_margin",
        "latency_margin",
        "upgrade_budget_seconds",
    )
    """What a person sets when planning a wave (the API and the form offer these)."""

    name = models.CharField(max_length=100)
    target_version = models.CharField(max_length=16)
    from_version = models.CharField(max_length=16, blank=True, help_text="Only registries on this version.")
    plan = models.ForeignKey(
        "provisioning.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cluster = models.ForeignKey(
        "provisioning.Cluster", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tenant = models.ForeignKey(
        "provisioning.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch_size = models.PositiveIntegerField(default=5)
    pause_seconds = models.PositiveIntegerField(default=300)
    window_seconds = models.PositiveIntegerField(default=600)
    error_ratio_margin = models.FloatField(
        default=0.01, help_text="Allowed rise of the 5xx ratio (0.01 = 1 point)."
    )
    latency_margin = models.FloatField(default=0.2, help_text="Allowed rise of p95 latency (0.2 = 20 %).")
    upgrade_budget_seconds = models.PositiveIntegerField(default=1800)
    status = models.CharField(max_length=16, choices=WaveStatus.choices, default=WaveStatus.PLANNED)
    reason = models.TextField(blank=True)
    next_step_at = models.DateTimeField(null=True, blank=True, help_text="When the wave looks again.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not catalogue.is_supported(self.target_version):
            errors["target_version"] = catalogue.unsupported_reason(self.target_version)
        if self.from_version and not catalogue.is_supported(self.from_version):
            errors["from_version"] = catalogue.unsupported_reason(self.from_version)
        if self.batch_size < 1:
            errors["batch_size"] = "A batch needs at least one registry."
        if self.window_seconds < 60:
            errors["window_seconds"] = "The gate window must be at least 60 seconds (a minute of scrapes)."
        if self.error_ratio_margin < 0 or self.latency_margin < 0:
            errors["error_ratio_margin"] = "Margins cannot be negative."
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in (WaveStatus.RUNNING, WaveStatus.HALTED, WaveStatus.PLANNED)


class WaveBatch(models.Model):
    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="batches")
    index = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=BatchStatus.choices, default=BatchStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    upgraded_at = models.DateTimeField(null=True, blank=True)
    gated_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="Per namespace: before and after.")

    class Meta:
        ordering = ["wave", "index"]
        constraints = [models.UniqueConstraint(fields=["wave", "index"], name="wave_batch_unique_index")]

    def __str__(self) -> str:
        return f"{self.wave} batch {self.index + 1}"

    @property
    def number(self) -> int:
        return self.index + 1


class WaveMember(models.Model):
    batch = models.ForeignKey(WaveBatch, on_delete=models.CASCADE, related_name="members")
    registry = models.ForeignKey("provisioning.Registry", on_delete=models.CASCADE, related_name="+")
    upgrade = models.ForeignKey(
        "provisioning.Upgrade", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["batch", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "registry"], name="wave_member_unique_registry")
        ]

    def __str__(self) -> str:
        return f"{self.registry_id} in {self.batch}"
