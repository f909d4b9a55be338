"""Plans: the defaults and limits a registry inherits (storage, replicas, resources, scanning, parallel requests)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from provisioning.rendering.pods import ROLLING_UPDATE
from provisioning.rendering.quantities import quantity
from provisioning.validators import validate_dns_label

MIN_DATABASE_CONNECTIONS = 5
MAX_DATABASE_CONNECTIONS = 10_000
CONNECTIONS_PER_CLIENT = 2
"""The fewest connections each database client (pod) must be able to open."""
STANDARD_CONNECTION_LIMITS = {"s": 40, "m": 90, "l": 180}
"""``database_connection_limit`` of the seeded plans: 6, 9 and 12 connections per pod (see ``database_clients``)."""

if TYPE_CHECKING:
    from provisioning.models.registries import EffectiveSettings
    from provisioning.rendering import Requirements


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
    namespace_cpu_limit = models.CharField(
        max_length=16,
        default="20",
        help_text="Ceiling of the CPU limits a registry's namespace may need (its quota is derived from its stack, "
        "rollouts included): the plan's largest registry must fit under it.",
    )
    namespace_memory_limit = models.CharField(
        max_length=16,
        default="20Gi",
        help_text="Ceiling of the memory limits a registry's namespace may need: the plan's largest registry must "
        "fit under it.",
    )
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

    QUANTITY_FIELDS = (
        "cpu_request",
        "cpu_limit",
        "memory_request",
        "memory_limit",
        "namespace_cpu_limit",
        "namespace_memory_limit",
    )

    class Meta:
        ordering = ["storage_quota_gib", "name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def database_clients(self) -> int:
        """The most pods of one registry that hold database connections at once.

        Core and the job service (which opens the database core's configuration names) at the plan's most replicas,
        and the exporter, each with the rolling-update surge rendering states on every Deployment.
        """
        surge = int(ROLLING_UPDATE["maxSurge"])
        return 2 * ((self.max_replicas or 1) + surge) + 1 + surge

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
        for name in self.QUANTITY_FIELDS:
            try:
                quantity(getattr(self, name))
            except ValueError as error:
                errors[name] = str(error)
        if errors:
            raise ValidationError(errors)
        for resource in ("cpu", "memory"):
            request, limit = getattr(self, f"{resource}_request"), getattr(self, f"{resource}_limit")
            if quantity(request) > quantity(limit):
                errors[f"{resource}_request"] = (
                    f"The {resource} request {request} is above the {resource} limit {limit}: a real API server "
                    "refuses such a pod. Lower the request or raise the limit."
                )
        if not errors:
            errors.update(self.ceiling_errors())
            errors.update(self.claim_errors())
        if errors:
            raise ValidationError(errors)

    def claim_errors(self) -> dict[str, str]:
        """A managed Redis keeps its data on a claim that only grows: a smaller size is refused while registries on
        the plan run one (their StatefulSet would ask for a claim their data no longer fits in)."""
        if self.pk is None:
            return {}
        stored = Plan.objects.filter(pk=self.pk).values_list("redis_persistence_gib", flat=True).first()
        if stored is None or self.redis_persistence_gib >= stored:
            return {}
        from provisioning.choices import CacheMode, DesiredState
        from provisioning.models.registries import Registry

        running = (
            Registry.objects.filter(plan_id=self.pk, cache__mode=CacheMode.MANAGED)
            .live()
            .exclude(desired_state=DesiredState.DELETED)
            .count()
        )
        if not running:
            return {}
        return {
            "redis_persistence_gib": (
                f"{running} registries on this plan keep their managed Redis data on {stored} GiB claims, and a "
                f"claim cannot shrink: {self.redis_persistence_gib} GiB would not hold it. Keep {stored} GiB or "
                "more, or move those registries to another plan first."
            )
        }

    def effective_settings(
        self,
        *,
        replicas: int | None = None,
        trivy_enabled: bool | None = None,
        storage_quota_gib: int | None = None,
        parallel_request_limit: int | None = None,
    ) -> EffectiveSettings:
        """A registry's settings on this plan: each given value overrides the plan's default."""
        from provisioning.models.registries import EffectiveSettings

        return EffectiveSettings(
            storage_quota_gib=storage_quota_gib or self.storage_quota_gib,
            replicas=replicas or self.replicas,
            trivy_enabled=self.trivy_enabled if trivy_enabled is None else trivy_enabled,
            parallel_request_limit=parallel_request_limit or self.parallel_request_limit,
            cpu_request=self.cpu_request,
            cpu_limit=self.cpu_limit,
            memory_request=self.memory_request,
            memory_limit=self.memory_limit,
            ha=self.ha,
        )

    def largest_registry_needs(self) -> Requirements:
        """What the plan's largest registry (most replicas, Trivy on, a console-run Redis, HTTP-01 solver) needs
        of its namespace at its peak."""
        from provisioning.sizing import requirements

        largest = self.effective_settings(replicas=self.max_replicas, trivy_enabled=True)
        return requirements(largest, self)

    def largest_registry_summary(self) -> str:
        """For pages: ``18.6 CPU and 15.94 GiB of limits, 21 pods``."""
        from provisioning.rendering.quantities import cpu_words, memory_words

        try:
            needs = self.largest_registry_needs()
        except ValueError as error:
            return f"(cannot be sized: {error})"
        return f"{cpu_words(needs.cpu_limits)} and {memory_words(needs.memory_limits)} of limits, {needs.pods} pods"

    def ceiling_errors(self) -> dict[str, str]:
        """Field errors for each namespace ceiling the plan's largest registry does not fit under."""
        from provisioning.sizing import ceiling_excesses

        try:
            needs = self.largest_registry_needs()
            excesses = ceiling_excesses(needs, self)
        except ValueError as error:
            return {"namespace_cpu_limit": f"The plan cannot be sized: {error}"}
        what = {"namespace_cpu_limit": "CPU", "namespace_memory_limit": "memory"}
        return {
            excess.field: (
                f"The plan's largest registry ({self.max_replicas} replicas, Trivy, a console-run Redis) needs "
                f"{excess.needed} of {what[excess.field]} limits in its namespace while it rolls out, above this "
                f"ceiling of {excess.ceiling}: raise the ceiling to at least that, or lower the most replicas or "
                f"the {what[excess.field]} limit per pod."
            )
            for excess in excesses
        }


def seed_connection_limits(plan_model: Any = Plan) -> None:
    """Give the seeded S/M/L plans their connection limit where it is still the field's default (``plan_model``:
    the migration's historical model, or the current one)."""
    default = Plan._meta.get_field("database_connection_limit").default
    for name, limit in STANDARD_CONNECTION_LIMITS.items():
        plan_model.objects.filter(name=name, database_connection_limit=default).update(
            database_connection_limit=limit
        )
