"""Audit events: who did what to which object, through which door, with the change."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from provisioning.choices import Via


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150, help_text="Kept when the user is deleted.")
    via = models.CharField(max_length=8, choices=Via.choices)
    action = models.CharField(max_length=32, db_index=True)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    registry = models.ForeignKey(
        "provisioning.Registry", null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.target_type} {self.target_repr}"
        )
