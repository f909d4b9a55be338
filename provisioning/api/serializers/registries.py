"""Registries: one tenant's Harbor, its spec, its observed state and what it is made of.

The read serializers rely on :func:`provisioning.api.views.registries.registry_queryset` having joined the tenant,
plan, cluster and bindings, prefetched components and resources and annotated the latest run, so that a page of
registries costs the same number of queries whatever its size.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from provisioning import catalogue
from provisioning.api.serializers.base import MAX_INT, MAX_SMALL_INT, StrictFieldsMixin
from provisioning.api.serializers.health import VerdictSerializer
from provisioning.choices import CacheMode, ConditionStatus, ConditionType, DesiredState, RunStatus, WhoseMove
from provisioning.health import verdict_of
from provisioning.models import (
    CacheBinding,
    Cluster,
    Component,
    DatabaseBinding,
    IngressBinding,
    ManagedResource,
    Plan,
    Registry,
    StorageBinding,
    Tenant,
)
from provisioning.services import registries as registry_services

BINDING_STATUS_FIELDS = [
    "status",
    "status_message",
    "whose_move",
    "status_since",
    "last_checked_at",
    "latency_ms",
    "provisioned_at",
]


class ConditionSerializer(serializers.Serializer[Any]):
    """A Kubernetes-style condition, plus whose move it is."""

    type = serializers.ChoiceField(choices=ConditionType.choices)
    status = serializers.ChoiceField(choices=ConditionStatus.choices)
    reason = serializers.CharField(allow_blank=True)
    message = serializers.CharField(allow_blank=True)
    whose_move = serializers.ChoiceField(choices=WhoseMove.choices, allow_blank=True)
    since = serializers.CharField(allow_null=True, help_text="When the status last changed (ISO 8601).")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        condition = instance if isinstance(instance, dict) else {}
        since = (
            condition.get("since")
            or condition.get("last_transition_time")
            or condition.get("lastTransitionTime")
        )
        return {
            "type": str(condition.get("type", "")),
            "status": str(condition.get("status", ConditionStatus.UNKNOWN)),
            "reason": str(condition.get("reason", "")),
            "message": str(condition.get("message", "")),
            "whose_move": str(condition.get("whose_move", "")),
            "since": str(since) if since else None,
        }


class EffectiveSettingsSerializer(serializers.Serializer[Any]):
    """The registry's settings once its overrides are laid over its plan's defaults."""

    storage_quota_gib = serializers.IntegerField()
    replicas = serializers.IntegerField()
    trivy_enabled = serializers.BooleanField()
    parallel_request_limit = serializers.IntegerField()
    cpu_request = serializers.CharField()
    cpu_limit = serializers.CharField()
    memory_request = serializers.CharField()
    memory_limit = serializers.CharField()
    ha = serializers.BooleanField()


class LatestRunSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    url = serializers.URLField()
    status = serializers.ChoiceField(choices=RunStatus.choices)
    operation = serializers.CharField(allow_blank=True)


class ComponentSerializer(serializers.ModelSerializer[Component]):
    class Meta:
        model = Component
        fields = [
            "kind",
            "image",
            "desired_replicas",
            "ready_replicas",
            "available",
            "message",
            "observed_at",
        ]
        read_only_fields = fields


class ManagedResourceSerializer(serializers.ModelSerializer[ManagedResource]):
    last_seen_at = serializers.DateTimeField(
        source="last_seen",
        allow_null=True,
        read_only=True,
        help_text="When the object was last seen on the cluster (one still there: at the stack's last read).",
    )

    class Meta:
        model = ManagedResource
        fields = [
            "api_version",
            "kind",
            "namespace",
            "name",
            "apply_order",
            "state",
            "message",
            "spec_hash",
            "resource_version",
            "applied_at",
            "last_seen_at",
        ]
        read_only_fields = fields


class CheckAgeMixin(serializers.Serializer[Any]):
    """A service binding's last check with its age; ``status`` is ``unknown`` once the check is stale (older than
    two periodic dependency checks), the status that check recorded stays in ``last_check_status``."""

    status = serializers.SerializerMethodField()
    last_check_status = serializers.CharField(source="status", read_only=True)
    check_age_seconds = serializers.SerializerMethodField()
    check_stale = serializers.SerializerMethodField()

    def get_status(self, binding: Any) -> str:
        return str(binding.observed_status())

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_check_age_seconds(self, binding: Any) -> float | None:
        age = binding.check_age_seconds()
        return None if age is None else round(age, 1)

    def get_check_stale(self, binding: Any) -> bool:
        return bool(binding.check_is_stale())


CHECK_AGE_FIELDS = ["last_check_status", "check_age_seconds", "check_stale"]


class DatabaseBindingSerializer(CheckAgeMixin, serializers.ModelSerializer[DatabaseBinding]):
    class Meta:
        model = DatabaseBinding
        fields = [
            *BINDING_STATUS_FIELDS,
            *CHECK_AGE_FIELDS,
            "host",
            "port",
            "name",
            "username",
            "sslmode",
            "server_version",
        ]
        read_only_fields = fields


class CacheBindingSerializer(CheckAgeMixin, serializers.ModelSerializer[CacheBinding]):
    class Meta:
        model = CacheBinding
        fields = [
            *BINDING_STATUS_FIELDS,
            *CHECK_AGE_FIELDS,
            "mode",
            "host",
            "port",
            "username",
            "tls",
            "sentinel_master",
            "maxmemory_bytes",
            "used_memory_bytes",
            "server_version",
        ]
        read_only_fields = fields


class StorageBindingSerializer(CheckAgeMixin, serializers.ModelSerializer[StorageBinding]):
    class Meta:
        model = StorageBinding
        fields = [
            *BINDING_STATUS_FIELDS,
            *CHECK_AGE_FIELDS,
            "kind",
            "endpoint",
            "region",
            "bucket",
            "root_directory",
        ]
        read_only_fields = fields


class IngressBindingSerializer(serializers.ModelSerializer[IngressBinding]):
    class Meta:
        model = IngressBinding
        fields = [
            *BINDING_STATUS_FIELDS,
            "tls_secret_name",
            "certificate_ready",
            "certificate_not_after",
            "certificate_renewal_at",
        ]
        read_only_fields = fields


class BindingsSerializer(serializers.Serializer[Any]):
    """The registry's share of each external service and its last check; never a password or a key."""

    database = DatabaseBindingSerializer(allow_null=True)
    cache = CacheBindingSerializer(allow_null=True)
    storage = StorageBindingSerializer(allow_null=True)
    ingress = IngressBindingSerializer(allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        registry: Registry = instance
        result: dict[str, Any] = {}
        for name, field in self.fields.items():
            binding = getattr(registry, name, None)
            result[name] = field.to_representation(binding) if binding is not None else None
        return result


class RegistrySerializer(serializers.ModelSerializer[Registry]):
    """A registry as listed: spec, phase, conditions, and the run to poll."""

    url = serializers.HyperlinkedIdentityField(view_name="api:registry-detail")
    tenant = serializers.CharField(source="tenant.slug", read_only=True, help_text="Tenant slug.")
    plan = serializers.CharField(source="plan.name", read_only=True, help_text="Plan name.")
    cluster = serializers.CharField(source="cluster.name", read_only=True, help_text="Cluster name.")
    external_url = serializers.URLField(read_only=True)
    effective = serializers.SerializerMethodField()
    conditions = ConditionSerializer(many=True, read_only=True)
    latest_run = serializers.SerializerMethodField()
    upgrade_targets = serializers.SerializerMethodField(
        help_text="Harbor versions the upgrade action accepts now, newest first."
    )
    purge_allowed_at = serializers.SerializerMethodField(
        help_text="When a deleted registry's data may be purged (null while not deleted)."
    )
    health = serializers.SerializerMethodField(
        help_text="The console's one health verdict (the fleet overview's too): reconciliation, metrics and "
        "the cluster combined, with every reason and whose move it is; Unknown when evidence is missing."
    )

    class Meta:
        model = Registry
        fields = [
            "id",
            "url",
            "tenant",
            "name",
            "plan",
            "cluster",
            "harbor_version",
            "hostname",
            "external_url",
            "namespace",
            "storage_quota_gib",
            "replicas",
            "trivy_enabled",
            "parallel_request_limit",
            "effective",
            "desired_state",
            "phase",
            "phase_since",
            "health",
            "conditions",
            "generation",
            "observed_generation",
            "deployed_version",
            "last_reconciled_at",
            "quiet_runs",
            "latest_run",
            "upgrade_targets",
            "deleted_at",
            "purge_allowed_at",
            "purged_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(EffectiveSettingsSerializer)
    def get_effective(self, registry: Registry) -> dict[str, Any]:
        return dict(EffectiveSettingsSerializer(registry.effective()).data)

    @extend_schema_field(LatestRunSerializer(allow_null=True))
    def get_latest_run(self, registry: Registry) -> dict[str, Any] | None:
        """The newest run of the registry: the one to poll after a change."""
        run_id = getattr(registry, "latest_run_id", None)
        if run_id is None:
            return None
        return {
            "id": run_id,
            "url": reverse("api:reconcilerun-detail", args=[run_id], request=self.context.get("request")),
            "status": registry.latest_run_status,  # type: ignore[attr-defined]
            "operation": registry.latest_run_operation,  # type: ignore[attr-defined]
        }

    def get_upgrade_targets(self, registry: Registry) -> list[str]:
        if registry.desired_state == DesiredState.DELETED:
            return []
        return catalogue.upgrade_targets(registry.harbor_version)

    @extend_schema_field(VerdictSerializer)
    def get_health(self, registry: Registry) -> dict[str, Any]:
        """From the verdicts the view read for the whole page (``context["verdicts"]``), or read for this one."""
        verdicts = self.context.get("verdicts") or {}
        verdict = verdicts.get(registry.pk) or verdict_of(registry)
        return dict(VerdictSerializer(verdict).data)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_purge_allowed_at(self, registry: Registry) -> Any:
        allowed_at = registry_services.purge_allowed_at(registry)
        return serializers.DateTimeField().to_representation(allowed_at) if allowed_at else None


class RegistryDetailSerializer(RegistrySerializer):
    """A registry with its components, bindings and every Kubernetes object the console owns for it."""

    components = ComponentSerializer(many=True, read_only=True)
    bindings = BindingsSerializer(source="*", read_only=True)
    resources = ManagedResourceSerializer(many=True, read_only=True)

    class Meta(RegistrySerializer.Meta):
        fields = [*RegistrySerializer.Meta.fields, "components", "bindings", "resources"]
        read_only_fields = fields


OVERRIDE_HELP = "Override of the plan's default; null = the plan's value."


class RegistryCreateSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """What creating a registry takes; the service function validates it against the plan and the catalogue."""

    tenant = serializers.SlugRelatedField(
        slug_field="slug", queryset=Tenant.objects.all(), help_text="Tenant slug."
    )
    name = serializers.CharField(max_length=30, help_text="DNS-safe name, unique within the tenant.")
    plan = serializers.SlugRelatedField(
        slug_field="name", queryset=Plan.objects.all(), help_text="Plan name."
    )
    region = serializers.CharField(
        max_length=63,
        required=False,
        allow_blank=True,
        help_text="Region to place the registry in: the freest cluster there with room for the plan. Required "
        "unless a cluster is named.",
    )
    cluster = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Cluster.objects.all(),
        required=False,
        allow_null=True,
        help_text="Cluster name, to override placement.",
    )
    cluster_labels = serializers.DictField(
        child=serializers.CharField(max_length=63, allow_blank=True),
        required=False,
        help_text='Place only on a cluster carrying every one of these labels, e.g. {"tier": "gold"}.',
    )
    harbor_version = serializers.ChoiceField(
        choices=list(catalogue.SUPPORTED_VERSIONS), default=catalogue.DEFAULT_VERSION
    )
    hostname = serializers.CharField(max_length=253, help_text="e.g. registry.customer.example")
    storage_quota_gib = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, required=False, help_text=OVERRIDE_HELP
    )
    replicas = serializers.IntegerField(
        min_value=1, max_value=MAX_SMALL_INT, allow_null=True, required=False, help_text=OVERRIDE_HELP
    )
    trivy_enabled = serializers.BooleanField(allow_null=True, required=False, help_text=OVERRIDE_HELP)
    parallel_request_limit = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, required=False, help_text=OVERRIDE_HELP
    )
    cache_mode = serializers.ChoiceField(choices=CacheMode.choices, default=CacheMode.MANAGED)


class RegistryUpdateSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """What PATCH may change; the Harbor version changes only through the upgrade action."""

    plan = serializers.SlugRelatedField(
        slug_field="name", queryset=Plan.objects.all(), help_text="Plan name."
    )
    cluster = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Cluster.objects.all(),
        help_text="Move to another cluster: refused (409) once the registry holds data, with what a migration "
        "would need.",
    )
    hostname = serializers.CharField(max_length=253)
    storage_quota_gib = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, help_text=OVERRIDE_HELP
    )
    replicas = serializers.IntegerField(
        min_value=1, max_value=MAX_SMALL_INT, allow_null=True, help_text=OVERRIDE_HELP
    )
    trivy_enabled = serializers.BooleanField(allow_null=True, help_text=OVERRIDE_HELP)
    parallel_request_limit = serializers.IntegerField(
        min_value=1, max_value=MAX_INT, allow_null=True, help_text=OVERRIDE_HELP
    )

    HINTS = {
        "harbor_version": "Change the Harbor version with the upgrade action (POST …/upgrade/).",
        "desired_state": "Use the suspend, resume and delete actions.",
    }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            fixed = set(RegistryDetailSerializer.Meta.fields) - set(self.fields)
            misplaced = {
                str(name): [self.HINTS.get(name, f"{name} cannot be changed after creation.")]
                for name in data
                if name in fixed
            }
            if misplaced:
                raise serializers.ValidationError(misplaced)
        return super().to_internal_value(data)


class UpgradeSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    target_version = serializers.ChoiceField(
        choices=list(catalogue.SUPPORTED_VERSIONS),
        error_messages={"invalid_choice": catalogue.unsupported_reason("{input}")},
        help_text="A Harbor version from the registry's upgrade_targets.",
    )


class PurgeSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    force = serializers.BooleanField(
        default=False,
        help_text="Remove the bucket even when it still holds objects (every object and version is deleted); "
        "without it a non-empty bucket makes the purge fail and keeps the data.",
    )
