"""Reconcile runs: one row per reconciliation, polled after every long operation."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.models import ReconcileRun


class ReconcileRunSerializer(serializers.ModelSerializer[ReconcileRun]):
    url = serializers.HyperlinkedIdentityField(view_name="api:reconcilerun-detail")
    registry_url: serializers.HyperlinkedRelatedField[Any] = serializers.HyperlinkedRelatedField(
        source="registry", view_name="api:registry-detail", read_only=True
    )
    registry_name = serializers.SerializerMethodField(help_text="tenant-slug/registry-name")
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Who asked for it; null for the system.",
    )
    is_open = serializers.BooleanField(read_only=True, help_text="Queued or running: poll again.")

    class Meta:
        model = ReconcileRun
        fields = [
            "id",
            "url",
            "registry",
            "registry_url",
            "registry_name",
            "trigger",
            "operation",
            "status",
            "is_open",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "duration_ms",
            "generation",
            "attempt",
            "trace_id",
            "created",
            "updated",
            "unchanged",
            "deleted",
            "error_class",
            "error_message",
            "whose_move",
        ]
        read_only_fields = fields

    def get_registry_name(self, run: ReconcileRun) -> str:
        return f"{run.registry.tenant.slug}/{run.registry.name}"


class ReconcileRunDetailSerializer(ReconcileRunSerializer):
    actions = serializers.ListField(
        child=serializers.DictField(), read_only=True, help_text="What the run changed, object by object."
    )

    class Meta(ReconcileRunSerializer.Meta):
        fields = [*ReconcileRunSerializer.Meta.fields, "actions"]
        read_only_fields = fields

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if not isinstance(instance.actions, list):
            data["actions"] = []
        return data
