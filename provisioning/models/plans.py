"""Plans: the defaults and limits a registry inherits (storage, replicas, resources, scanning, parallel requests)."""

from __future__ import annotations

import math
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from provisioning.validators import validate_dns_label

MIN_DATABASE_CONNECTIONS = 5
MAX_DATABASE_CONNECTIONS = 10_000
CONNECTIONS_PER_CLIENT = 2
"""The fewest connections each database client (pod) must be able to open."""
STANDARD_CONNECTION_LIMITS = {"s": 40, "m": 90, "l": 180}
"""``database_connection_limit`` of the seeded plans: 10, 15 and 20 connections per pod."""


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
    database_connection_limit = models.PositiveIntegerField(
        default=40,
        validators=[MinValueValidator(MIN_DATABASE_CONNECTIONS), MaxValueValidator(MAX_DATABASE_CONNECTIONS)],
        help_text="Most connections each of a registry's PostgreSQL login roles may open (CONNECTION LIMIT); "
        "Harbor's pods share them.",
    )
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
        "database_connection_limit",
        "ha",
    )

    class Meta:
        ordering = ["storage_quota_gib", "name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def database_clients(self) -> int:
        """The most pods of one registry that hold database connections at once.

        Core at the plan's most replicas plus its rolling-update surge (25 %, rounded up), and the exporter with its
        own surge; the console's check uses the connection a pod leaves free.
        """
        core = self.max_replicas or 1
        return core + math.ceil(core / 4) + 2

    def database_connections_per_pod(self) -> int:
        """What one pod may open (``POSTGRESQL_MAX_OPEN_CONNS``) so that all of them stay under the role's limit."""
        return max(1, self.database_connection_limit // self.database_clients())

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
        least = self.database_clients() * CONNECTIONS_PER_CLIENT
        if self.database_connection_limit is not None and self.database_connection_limit < least:
            errors["database_connection_limit"] = (
                f"{self.database_connection_limit} connections are too few: with up to {self.max_replicas} "
                f"replicas, {self.database_clients()} pods (rollout surge and exporter included) share them and "
                f"each needs {CONNECTIONS_PER_CLIENT}. Give at least {least}, or lower the most replicas."
            )
        if errors:
            raise ValidationError(errors)


def seed_connection_limits(plan_model: Any = Plan) -> None:
    """Give the seeded S/M/L plans their connection limit where it is still the field's default (``plan_model``:
    the migration's historical model, or the current one)."""
    default = Plan._meta.get_field("database_connection_limit").default
    for name, limit in STANDARD_CONNECTION_LIMITS.items():
        plan_model.objects.filter(name=name, database_connection_limit=default).update(
            database_connection_limit=limit
        )
