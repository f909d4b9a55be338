"""Tenants: the provider's customers, each owning one or more Harbor registries."""

from __future__ import annotations

from django.db import models

from provisioning.choices import Phase
from provisioning.validators import validate_dns_label


class Tenant(models.Model):
    slug = models.CharField(
        max_length=30,
        unique=True,
        validators=[validate_dns_label],
        help_text="Short DNS-safe identifier, used in namespace names. Cannot change later.",
    )
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name or self.slug

    def deletion_refusal(self) -> str | None:
        """Why the tenant cannot be deleted now, or None. Every registry must be purged first: a deleted one
        still holds the customer's data (database, bucket) until its purge."""
        remaining = list(
            self.registries.exclude(phase=Phase.PURGED).order_by("name").values_list("name", flat=True)[:6]
        )
        if not remaining:
            return None
        names = ", ".join(remaining[:5]) + (", …" if len(remaining) > 5 else "")
        return (
            f"Tenant {self.slug} still has registries that are not purged ({names}): delete them, and purge them "
            "once their retention period is over, before deleting the tenant."
        )
