"""Tenants: the provider's customers, each owning one or more Harbor registries."""

from __future__ import annotations

from django.db import models

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
