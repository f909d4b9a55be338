"""Bulk operations: the request (action and selection) and the summary resource."""

from __future__ import annotations

from collections import Counter
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.filtersets import RegistryFilterSet
from provisioning.models import BulkOperation
from provisioning.models.bulk import BulkAction

MAX_IDS = 10_000


class BulkRequestSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    action = serializers.ChoiceField(choices=BulkAction.choices)
    target_version = serializers.CharField(
        required=False,
        max_length=16,
        help_text="For upgrade (required there): the Harbor version to move to.",
    )
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        max_length=MAX_IDS,
        help_text="The registries to act on, by id. Give ids or filters.",
    )
    filters = serializers.DictField(
        required=False,
        help_text='The same filters as GET /api/v1/registries/ (e.g. {"tenant": "acme", "phase": '
        '["Ready"]}); at least one. Give ids or filters.',
    )

    def validate_filters(self, value: dict[str, Any]) -> dict[str, Any]:
        known = set(RegistryFilterSet.base_filters)
        unknown = sorted(set(value) - known)
        if unknown:
            raise serializers.ValidationError(
                f"Unknown filters: {', '.join(unknown)}. Use: {', '.join(sorted(known))}."
            )
        if not value:
            raise serializers.ValidationError(
                "Give at least one filter (a bulk operation never means 'all')."
            )
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("ids" in attrs) == ("filters" in attrs):
            raise serializers.ValidationError({"ids": ["Give either ids or filters (one of them)."]})
        if "ids" in attrs and not attrs["ids"]:
            raise serializers.ValidationError({"ids": ["Give at least one id."]})
        if attrs["action"] == BulkAction.UPGRADE and not attrs.get("target_version"):
            raise serializers.ValidationError({"target_version": ["An upgrade needs the target version."]})
        if attrs["action"] != BulkAction.UPGRADE and attrs.get("target_version"):
            raise serializers.ValidationError({"target_version": ["Only an upgrade takes a target version."]})
        return attrs


class BulkRunSerializer(serializers.Serializer[Any]):
    registry = serializers.IntegerField()
    run = serializers.IntegerField()
    status = serializers.CharField(help_text="The run's status now; 'unknown' once its record was pruned.")


class BulkUpgradeSerializer(serializers.Serializer[Any]):
    registry = serializers.IntegerField()
    upgrade = serializers.IntegerField(
        allow_null=True,
        help_text="The step-by-step upgrade started: /api/v1/upgrades/<id>/; null while it is pending (a worker "
        "starts each in turn).",
    )
    status = serializers.CharField(
        help_text="pending (not started yet), then the upgrade's status now (running, succeeded, halted, "
        "rolled_back); 'unknown' once its record is gone."
    )


class BulkRefusalSerializer(serializers.Serializer[Any]):
    registry = serializers.IntegerField()
    code = serializers.CharField()
    reason = serializers.CharField()
    upgrade = serializers.IntegerField(
        required=False,
        help_text="Code preflight_failed: the upgrade recorded halted at its pre-flight (nothing else changed). "
        "An upgrade's refusals come from the request (upgrade_not_allowed, upgrade_under_way, registry_deleted) "
        "and, as the worker starts each upgrade, from the worker (the same codes when things changed since, "
        "preflight_failed, start_failed).",
    )


class BulkOperationSerializer(serializers.ModelSerializer[BulkOperation]):
    url = serializers.HyperlinkedIdentityField(view_name="api:bulkoperation-detail")
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    counts = serializers.SerializerMethodField(
        help_text="selected, accepted (runs and upgrades), refused, accepted runs per status (queued, running, "
        "succeeded, failed, skipped, unknown) and, for an upgrade, upgrades per status (upgrades_pending, "
        "upgrades_running, upgrades_succeeded, upgrades_halted, upgrades_rolled_back, upgrades_unknown)."
    )
    runs = serializers.SerializerMethodField(
        help_text="A reconcile run per registry accepted; an upgrade has runs only for registries never deployed "
        "(their version changes in place)."
    )
    upgrades = serializers.SerializerMethodField(
        help_text="An upgrade: each deployed registry accepted, pending until a worker starts its step-by-step "
        "upgrade, then that upgrade (pre-flight passed; a failed one moves to refusals)."
    )
    refusals = BulkRefusalSerializer(many=True, read_only=True)

    class Meta:
        model = BulkOperation
        fields = [
            "id",
            "url",
            "action",
            "target_version",
            "selection",
            "requested_by",
            "requested_at",
            "counts",
            "runs",
            "upgrades",
            "refusals",
        ]
        read_only_fields = fields

    def _statuses(self, operation: BulkOperation) -> dict[int, str]:
        return dict(self.context.get("run_statuses", {}))

    @extend_schema_field(BulkRunSerializer(many=True))
    def get_runs(self, operation: BulkOperation) -> list[dict[str, Any]]:
        statuses = self._statuses(operation)
        return [{**item, "status": statuses.get(item["run"], "unknown")} for item in operation.runs]

    def _upgrade_statuses(self, operation: BulkOperation) -> dict[int, str]:
        return dict(self.context.get("upgrade_statuses", {}))

    @extend_schema_field(BulkUpgradeSerializer(many=True))
    def get_upgrades(self, operation: BulkOperation) -> list[dict[str, Any]]:
        statuses = self._upgrade_statuses(operation)
        return [{**item, "status": _upgrade_status(item, statuses)} for item in operation.upgrades]

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_counts(self, operation: BulkOperation) -> dict[str, int]:
        statuses = self._statuses(operation)
        per_status = Counter(statuses.get(item["run"], "unknown") for item in operation.runs)
        accepted = len(operation.runs) + len(operation.upgrades)
        counts = {
            "selected": accepted + len(operation.refusals),
            "accepted": accepted,
            "refused": len(operation.refusals),
        }
        for status in ("queued", "running", "succeeded", "failed", "skipped", "unknown"):
            counts[status] = per_status.get(status, 0)
        if operation.action == BulkAction.UPGRADE:
            upgrade_statuses = self._upgrade_statuses(operation)
            per_upgrade = Counter(_upgrade_status(i, upgrade_statuses) for i in operation.upgrades)
            for status in ("pending", "running", "succeeded", "halted", "rolled_back", "unknown"):
                counts[f"upgrades_{status}"] = per_upgrade.get(status, 0)
        return counts


def _upgrade_status(item: dict[str, Any], statuses: dict[int, str]) -> str:
    if item.get("upgrade") is None:
        return "pending"
    return statuses.get(item["upgrade"], "unknown")
