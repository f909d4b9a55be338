"""Reconcile leases: the database form of the one-run-per-registry lock, for when no Redis is configured."""

from __future__ import annotations

from django.db import models


class ReconcileLease(models.Model):
    """Who holds a registry's reconciliation, and until when; taken and given back by conditional UPDATEs."""

    registry = models.OneToOneField(
        "provisioning.Registry", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    holder = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    requested_at = models.DateTimeField(
        null=True, blank=True, help_text="A run was asked for while the lease was held: one follows."
    )
    check_at = models.DateTimeField(
        null=True, blank=True, help_text="A deferred look at the request is scheduled for then."
    )

    def __str__(self) -> str:
        return f"lease of {self.registry_id} held by {self.holder or 'nobody'}"
