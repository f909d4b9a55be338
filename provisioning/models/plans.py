"""Plans: the defaults and limits a registry inherits (storage, replicas, resources, scanning, parallel requests)."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from provisioning.validators import validate_dns_label


class Plan(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[validate_dns_label])
    display_name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    storage_quota_gib = models.PositiveIntegerField(
        default=100, validators=[MinValueValidator(1)], help_text="Default storage quota of a registry (GiB)."
    )
    max_storage_quota_gib = models.PositiveIntegerField(
        default=200,
        validators=[MinValueValidator(1)],
        help_text="Largest quota a registry may be given (GiB).",
    )
    replicas = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1)],
        help_text="Replicas of core, portal, registry and job service.",
    )
    max_replicas = models.PositiveSmallIntegerField(default=3, validators=[MinValueValidator(1)])
    trivy_enabled = models.BooleanField(default=False, help_text="Vulnerability scanning with Trivy.")
    parallel_request_limit = models.PositiveIntegerField(
        default=100,
        validators=[MinValueValidator(1)],
        help_text="Concurrent requests allowed on the registry.",
    )
    cpu_request = models.CharField(max_length=16, default="100m")
    cpu_limit = models.CharField(max_length=16, default="1")
    memory_request = models.CharField(max_length=16, default="256Mi")
    memory_limit = models.CharField(max_length=16, default="1Gi")
    namespace_cpu_limit = models.CharField(max_length=16, default="8")
    namespace_memory_limit = models.CharField(max_length=16, default="16Gi")
    redis_memory_mib = models.PositiveIntegerField(
        default=256, help_text="maxmemory of a console-run Redis (MiB)."
    )
    redis_persistence_gib = models.PositiveIntegerField(default=1)
    ha = models.BooleanField(default=False, help_text="Disruption budgets and spreading over zones.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    EDITABLE_FIELDS = (
        "name",
        "display_name",
        "description",
        "storage_quota_gib",
        "max_storage_quota_gib",
        "replicas",
        "max_replicas",
        "trivy_enabled",
        "parallel_request_limit",
        "cpu_request",
        "cpu_limit",
        "memory_request",
        "memory_limit",
        "namespace_cpu_limit",
        "namespace_memory_limit",
        "redis_memory_mib",
        "redis_persistence_gib",
        "ha",
    )

    class Meta:
        ordering = ["storage_quota_gib", "name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        if (
            self.storage_quota_gib
            and self.max_storage_quota_gib
            and self.storage_quota_gib > self.max_storage_quota_gib
        ):
            errors["storage_quota_gib"] = "The default quota cannot be above the plan's maximum quota."
        if self.replicas and self.max_replicas and self.replicas > self.max_replicas:
            errors["replicas"] = "The default replica count cannot be above the plan's maximum."
        if errors:
            raise ValidationError(errors)
