"""Upgrades and waves: their plan and progress step by step, batch by batch."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning import catalogue
from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.models import Cluster, Plan, Registry, Tenant, Upgrade, Wave, WaveBatch

UPGRADE_FIELDS = [
    "id",
    "url",
    "registry",
    "registry_name",
    "wave",
    "from_version",
    "to_version",
    "status",
    "step",
    "steps",
    "budget_seconds",
    "deadline",
    "migration_job",
    "migration_started_at",
    "reason",
    "whose_move",
    "created_at",
    "finished_at",
]


class UpgradeSerializer(serializers.ModelSerializer[Upgrade]):
    url = serializers.HyperlinkedIdentityField(view_name="api:upgrade-detail")
    registry_name = serializers.SerializerMethodField(help_text="tenant-slug/registry-name")
    steps = serializers.ListField(
        child=serializers.DictField(),
        help_text='Pre-flight (with its "checks"), migration, then each component: name, status '
        "(pending, running, done, skipped, failed), message, started_at, finished_at.",
    )

    class Meta:
        model = Upgrade
        fields = UPGRADE_FIELDS
        read_only_fields = fields

    def get_registry_name(self, upgrade: Upgrade) -> str:
        return f"{upgrade.registry.tenant.slug}/{upgrade.registry.name}"


class UpgradeRequestSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    registry = serializers.IntegerField(min_value=1, help_text="The registry's id.")

    def validate_registry(self, value: int) -> int:
        if not Registry.objects.filter(pk=value).exists():
            raise serializers.ValidationError("No registry has this id.")
        return value

    target_version = serializers.ChoiceField(choices=list(catalogue.SUPPORTED_VERSIONS))
    budget_seconds = serializers.IntegerField(min_value=60, max_value=86_400, required=False)


class WaveBatchSerializer(serializers.ModelSerializer[WaveBatch]):
    registries = serializers.SerializerMethodField(help_text="tenant-slug/registry-name of each member.")

    class Meta:
        model = WaveBatch
        fields = [
            "index",
            "status",
            "started_at",
            "upgraded_at",
            "gated_at",
            "reason",
            "figures",
            "registries",
        ]
        read_only_fields = fields

    def get_registries(self, batch: WaveBatch) -> list[str]:
        return [f"{m.registry.tenant.slug}/{m.registry.name}" for m in batch.members.all()]


class WaveSerializer(StrictFieldsMixin, serializers.ModelSerializer[Wave]):
    url = serializers.HyperlinkedIdentityField(view_name="api:wave-detail")
    plan: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Plan.objects.all(),
        required=False,
        allow_null=True,
        help_text="Plan name.",
    )
    cluster: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="name",
        queryset=Cluster.objects.all(),
        required=False,
        allow_null=True,
        help_text="Cluster name.",
    )
    tenant: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Tenant.objects.all(),
        required=False,
        allow_null=True,
        help_text="Tenant slug.",
    )
    batches = WaveBatchSerializer(many=True, read_only=True)
    target_version = serializers.ChoiceField(choices=list(catalogue.SUPPORTED_VERSIONS))
    from_version = serializers.ChoiceField(
        choices=["", *catalogue.SUPPORTED_VERSIONS], required=False, allow_blank=True
    )
    batch_size = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    pause_seconds = serializers.IntegerField(min_value=0, max_value=86_400, required=False)
    window_seconds = serializers.IntegerField(min_value=60, max_value=86_400, required=False)
    upgrade_budget_seconds = serializers.IntegerField(min_value=60, max_value=86_400, required=False)
    error_ratio_margin = serializers.FloatField(min_value=0, max_value=1, required=False)
    latency_margin = serializers.FloatField(min_value=0, max_value=10, required=False)

    class Meta:
        model = Wave
        fields = [
            "id",
            "url",
            *Wave.PLANNED_FIELDS,
            "status",
            "reason",
            "next_step_at",
            "created_at",
            "started_at",
            "finished_at",
            "batches",
        ]
        read_only_fields = ["status", "reason", "next_step_at", "created_at", "started_at", "finished_at"]
