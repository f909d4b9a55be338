"""Bulk operations: one request acting on a selection of registries, one reconcile run per registry it accepted
(an upgrade: one step-by-step upgrade per deployed registry)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class BulkAction(models.TextChoices):
    RECONCILE = "reconcile", "Reconcile"
    SUSPEND = "suspend", "Suspend"
    RESUME = "resume", "Resume"
    UPGRADE = "upgrade", "Upgrade"


class BulkOperation(models.Model):
    action = models.CharField(max_length=16, choices=BulkAction.choices)
    target_version = models.CharField(max_length=16, blank=True, help_text="For upgrade: the Harbor version.")
    selection = models.JSONField(default=dict, help_text="The ids or filters the request selected by.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    runs = models.JSONField(
        default=list, help_text="[{registry, run}] for every registry accepted with a reconcile run."
    )
    upgrades = models.JSONField(
        default=list,
        help_text="[{registry, upgrade}] for every registry whose step-by-step upgrade an upgrade started.",
    )
    refusals = models.JSONField(
        default=list, help_text="[{registry, code, reason}] for every registry refused."
    )

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"bulk {self.action} {self.pk}"
