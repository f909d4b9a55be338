"""Registries: one tenant's Harbor, its components and its generated secrets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.constraints import BaseConstraint
from django.utils import timezone

from provisioning import catalogue
from provisioning.choices import ComponentKind, ConditionStatus, DesiredState, Phase, WhoseMove
from provisioning.fields import EncryptedTextField
from provisioning.naming import namespace_name
from provisioning.validators import validate_dns_label, validate_hostname


@dataclass(frozen=True)
class EffectiveSettings:
    """A registry's settings once its overrides are laid over its plan's defaults: the one place they resolve."""

    storage_quota_gib: int
    replicas: int
    trivy_enabled: bool
    parallel_request_limit: int
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    ha: bool


class RegistryQuerySet(models.QuerySet["Registry"]):
    def live(self) -> RegistryQuerySet:
        """Registries that still have (or should have) objects on a cluster."""
        return self.exclude(phase__in=[Phase.DELETED, Phase.PURGED])

    def with_related(self) -> RegistryQuerySet:
        return self.select_related("tenant", "plan", "cluster")


class Registry(models.Model):
    tenant = models.ForeignKey("provisioning.Tenant", on_delete=models.PROTECT, related_name="registries")
    name = models.CharField(
        max_length=30, validators=[validate_dns_label], help_text="DNS-safe name, unique within the tenant."
    )
    plan = models.ForeignKey("provisioning.Plan", on_delete=models.PROTECT, related_name="registries")
    cluster = models.ForeignKey("provisioning.Cluster", on_delete=models.PROTECT, related_name="registries")
    harbor_version = models.CharField(max_length=16, default=catalogue.DEFAULT_VERSION)
    hostname = models.CharField(
        max_length=253,
        unique=True,
        validators=[validate_hostname],
        help_text="e.g. registry.customer.example",
        error_messages={
            "unique": "This hostname already serves another registry: a hostname belongs to one registry "
            "across all tenants. Choose another hostname, or free this one first."
        },
    )
    namespace = models.CharField(max_length=63, validators=[validate_dns_label], editable=False)

    # Overrides of the plan's defaults (empty = the plan's value).
    storage_quota_gib = models.PositiveIntegerField(null=True, blank=True)
    replicas = models.PositiveSmallIntegerField(null=True, blank=True)
    trivy_enabled = models.BooleanField(null=True, blank=True)
    parallel_request_limit = models.PositiveIntegerField(null=True, blank=True)

    desired_state = models.CharField(
        max_length=16, choices=DesiredState.choices, default=DesiredState.RUNNING
    )
    generation = models.PositiveBigIntegerField(default=1)
    observed_generation = models.PositiveBigIntegerField(default=0)
    deployed_version = models.CharField(
        max_length=16, blank=True, help_text="Version last seen fully rolled out."
    )
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PENDING, editable=False)
    phase_since = models.DateTimeField(default=timezone.now, editable=False)
    conditions = models.JSONField(default=list, blank=True, editable=False)
    last_reconciled_at = models.DateTimeField(null=True, blank=True, editable=False)
    stack_read_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When a run last read the whole stack (from the cluster or the watch cache): every object found "
        "then was seen then, without a write per object.",
    )
    resources_digest = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="What the resource rows were last recorded from (reconcile.resources.resources_digest).",
    )
    quiet_runs = models.PositiveBigIntegerField(
        default=0,
        editable=False,
        help_text="Sweep runs that found nothing to do and changed nothing: counted here, not kept as run rows.",
    )
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegistryQuerySet.as_manager()

    SPEC_FIELDS = (
        "plan_id",
        "cluster_id",
        "harbor_version",
        "hostname",
        "storage_quota_gib",
        "replicas",
        "trivy_enabled",
        "parallel_request_limit",
        "desired_state",
    )

    class Meta:
        ordering = ["tenant__slug", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="registry_unique_name_per_tenant"),
            models.UniqueConstraint(
                fields=["cluster", "namespace"], name="registry_unique_namespace_per_cluster"
            ),
        ]
        indexes = [models.Index(fields=["phase"]), models.Index(fields=["desired_state"])]
        verbose_name_plural = "registries"

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.name}" if self.tenant_id else self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.namespace and self.tenant_id and self.name:
            self.namespace = self.default_namespace()
        super().save(*args, **kwargs)

    def default_namespace(self) -> str:
        return namespace_name(self.tenant.slug, self.name)

    @property
    def external_url(self) -> str:
        return f"https://{self.hostname}"

    def effective(self) -> EffectiveSettings:
        return self.plan.effective_settings(
            replicas=self.replicas,
            trivy_enabled=self.trivy_enabled,
            storage_quota_gib=self.storage_quota_gib,
            parallel_request_limit=self.parallel_request_limit,
        )

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.harbor_version and not catalogue.is_supported(self.harbor_version):
            errors["harbor_version"] = catalogue.unsupported_reason(self.harbor_version)
        elif self.pk:
            stored = Registry.objects.filter(pk=self.pk).values_list("harbor_version", flat=True).first()
            if stored and stored != self.harbor_version:
                refusal = catalogue.upgrade_refusal(stored, self.harbor_version)
                if refusal:
                    errors["harbor_version"] = refusal
        if self.plan_id:
            plan = self.plan
            if self.storage_quota_gib and self.storage_quota_gib > plan.max_storage_quota_gib:
                errors["storage_quota_gib"] = (
                    f"{self.storage_quota_gib} GiB is above the {plan} plan's limit of "
                    f"{plan.max_storage_quota_gib} GiB: lower it or choose a larger plan."
                )
            if self.replicas and self.replicas > plan.max_replicas:
                errors["replicas"] = (
                    f"{self.replicas} replicas is above the {plan} plan's limit of {plan.max_replicas}."
                )
            if not errors:
                errors.update(self.ceiling_errors())
        if self.hostname:
            self.hostname = self.hostname.strip().lower().rstrip(".")
        clash = self.name_clash()
        if clash and "name" not in errors:
            errors["name"] = clash
        if errors:
            raise ValidationError(errors)

    FIELD_CHECKED_CONSTRAINTS = frozenset(
        {"registry_unique_name_per_tenant", "registry_unique_namespace_per_cluster"}
    )
    """Checked by :meth:`name_clash`, whose message names the field and the way out; the database still enforces
    them against races."""

    def get_constraints(self) -> list[tuple[type[models.Model], Sequence[BaseConstraint]]]:
        return [
            (model, [c for c in constraints if c.name not in self.FIELD_CHECKED_CONSTRAINTS])
            for model, constraints in super().get_constraints()
        ]

    def name_clash(self) -> str | None:
        """Why this name cannot be used: taken within the tenant, or its namespace taken on the cluster."""
        if not (self.tenant_id and self.name):
            return None
        others = Registry.objects.exclude(pk=self.pk) if self.pk else Registry.objects.all()
        if others.filter(tenant_id=self.tenant_id, name=self.name).exists():
            return f"Tenant {self.tenant.slug} already has a registry named {self.name}: choose another name."
        namespace = self.namespace or self.default_namespace()
        if self.cluster_id and others.filter(cluster_id=self.cluster_id, namespace=namespace).exists():
            return (
                f"On cluster {self.cluster}, the namespace {namespace} already belongs to another registry (tenant "
                "and registry names can meet, as a-b/c and a/b-c do): choose another name, or another cluster."
            )
        return None

    def ceiling_errors(self) -> dict[str, str]:
        """A field error when the stack these settings render needs more CPU or memory limits in its namespace
        (rollouts included) than the plan's ceiling, on the field to lower."""
        from provisioning.choices import CacheMode
        from provisioning.sizing import ceiling_excesses, requirements

        plan = self.plan
        cache = getattr(self, "cache", None) if self.pk else None
        managed = cache is None or cache.mode == CacheMode.MANAGED
        try:
            excesses = ceiling_excesses(requirements(self.effective(), plan, managed=managed), plan)
        except ValueError:
            return {}  # the plan's own figures are wrong: the plan's form says so
        if not excesses:
            return {}
        field = "replicas" if self.replicas else "trivy_enabled" if self.trivy_enabled else "plan"
        needs = " and ".join(f"{excess.needed} of limits" for excess in excesses)
        ceilings = " and ".join(excess.ceiling for excess in excesses)
        return {
            field: f"This registry needs {needs} in its namespace while it rolls out, above the {plan} plan's "
            f"ceiling of {ceilings}: lower the replicas, turn Trivy off, or choose a larger plan."
        }

    def spec_snapshot(self) -> dict[str, Any]:
        return {field: getattr(self, field) for field in self.SPEC_FIELDS}

    def condition(self, type_: str) -> dict[str, Any] | None:
        return next((c for c in self.conditions if c.get("type") == type_), None)

    def problems(self) -> list[dict[str, Any]]:
        """Conditions that say something is wrong, worst first: what a person should read."""
        bad = []
        for cond in self.conditions:
            wrong = (
                cond.get("status") == ConditionStatus.TRUE
                if cond.get("type") == "Degraded"
                else (cond.get("status") != ConditionStatus.TRUE and cond.get("type") != "Progressing")
            )
            if wrong:
                bad.append(cond)
        order = {WhoseMove.PROVIDER: 0, WhoseMove.CUSTOMER: 1, WhoseMove.TRANSIENT: 2}
        return sorted(bad, key=lambda c: order.get(c.get("whose_move", ""), 3))

    def set_phase(self, phase: str, now: datetime | None = None) -> None:
        if phase != self.phase:
            self.phase = phase
            self.phase_since = now or timezone.now()


class Component(models.Model):
    """One Harbor component of a registry and what was last observed of it."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="components")
    kind = models.CharField(max_length=16, choices=ComponentKind.choices)
    image = models.CharField(max_length=200, blank=True)
    desired_replicas = models.PositiveSmallIntegerField(default=1)
    ready_replicas = models.PositiveSmallIntegerField(default=0)
    available = models.BooleanField(
        null=True,
        default=False,
        help_text="None while it is not known (the cluster could not be read); the last facts stay in the row.",
    )
    message = models.CharField(max_length=500, blank=True)
    observed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["registry", "kind"]
        constraints = [models.UniqueConstraint(fields=["registry", "kind"], name="component_unique_kind")]

    def __str__(self) -> str:
        return f"{self.registry} {self.kind}"


class SecretName(models.TextChoices):
    CORE_SECRET = "core_secret"
    JOBSERVICE_SECRET = "jobservice_secret"
    REGISTRY_HTTP_SECRET = "registry_http_secret"
    CSRF_KEY = "csrf_key"
    SECRET_KEY = "secret_key"
    TOKEN_PRIVATE_KEY = "token_private_key"
    TOKEN_CERTIFICATE = "token_certificate"
    ADMIN_PASSWORD = "admin_password"
    REGISTRY_PASSWORD = "registry_password"
    REGISTRY_HTPASSWD = "registry_htpasswd"


class RegistrySecret(models.Model):
    """A generated secret of one registry: created once, stored encrypted, changed only by explicit rotation."""

    registry = models.ForeignKey(Registry, on_delete=models.CASCADE, related_name="secrets")
    name = models.CharField(max_length=32, choices=SecretName.choices)
    value = EncryptedTextField()
    previous_value = EncryptedTextField(blank=True, help_text="Kept until a rotation's rollout is Ready.")
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["registry", "name"], name="secret_unique_name")]

    def __str__(self) -> str:
        return f"{self.registry} {self.name}"
