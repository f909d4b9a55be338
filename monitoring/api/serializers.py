"""Shapes of the monitoring API's answers (read-only; they also document the API schema)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from monitoring.prometheus import Batch
from provisioning.api.serializers.clusters import USE_SCHEMA
from provisioning.api.serializers.health import ReasonSerializer, VerdictSerializer
from provisioning.health import HEALTH_CHOICES


def metrics_state(batch: Batch, extra: str = "") -> dict[str, Any]:
    """How the figures of an answer were obtained: ``ok``, ``unconfigured``, ``unavailable`` or ``error``;
    ``extra`` adds what else a person should know (e.g. recording rules not loaded)."""
    return {
        "status": str(batch.status),
        "message": " ".join(part for part in (batch.message, extra) if part),
        "evaluated_at": batch.evaluated_at,
        "evaluated_at_iso": datetime.fromtimestamp(batch.evaluated_at, tz=UTC).isoformat(),
    }


class MetricsStateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "unconfigured", "unavailable", "error"])
    message = serializers.CharField(help_text="Empty when all is well; otherwise what a person should know.")
    evaluated_at = serializers.FloatField(help_text="Evaluation time of instant queries, Unix seconds.")
    evaluated_at_iso = serializers.CharField()


class FleetRowSerializer(serializers.Serializer):
    registry_id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant_slug")
    tenant_name = serializers.CharField()
    registry = serializers.CharField(source="name")
    namespace = serializers.CharField()
    hostname = serializers.CharField()
    plan = serializers.CharField()
    cluster = serializers.CharField()
    phase = serializers.CharField()
    health = serializers.ChoiceField(choices=HEALTH_CHOICES, source="health.value")
    reasons = ReasonSerializer(many=True, help_text="Every reason for the health, worst first.")
    harbor_version = serializers.CharField()
    running_version = serializers.CharField(allow_null=True)
    error_ratio = serializers.FloatField(allow_null=True, help_text="5xx share of core's answers (0-1).")
    mean_latency_seconds = serializers.FloatField(source="mean_latency", allow_null=True)
    pulls_per_day = serializers.FloatField(allow_null=True)
    pulls_since = serializers.FloatField(
        allow_null=True,
        help_text="Unix seconds the pull count starts from when the registry is younger than a day (else null).",
    )
    storage_used_bytes = serializers.FloatField(source="storage_used", allow_null=True)
    storage_limit_bytes = serializers.IntegerField(source="storage_limit")
    storage_share = serializers.FloatField(allow_null=True)
    parallel_request_limit = serializers.IntegerField(source="parallel_limit")
    pods_not_ready = serializers.FloatField(allow_null=True)
    components_down = serializers.ListField(child=serializers.CharField())


class ClusterStateSerializer(serializers.Serializer):
    name = serializers.CharField(source="cluster.name")
    state = serializers.CharField(help_text="Healthy, Degraded, Unknown or Unreachable.")
    reasons = serializers.ListField(child=serializers.CharField(), source="view.health.reasons")
    registries = serializers.IntegerField()
    use = serializers.SerializerMethodField(
        help_text="Registries against capacity, CPU (millicores) and memory (bytes) reserved against allocatable "
        "(null: not recorded)."
    )

    @extend_schema_field(USE_SCHEMA)
    def get_use(self, row: Any) -> dict[str, int | None] | None:
        return row.use.as_dict() if row.use is not None else None


class FleetSerializer(serializers.Serializer):
    metrics = MetricsStateSerializer()
    clusters = ClusterStateSerializer(many=True)
    health = serializers.DictField(child=serializers.IntegerField(), help_text="Registries per health.")
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = FleetRowSerializer(many=True)


class ValueSerializer(serializers.Serializer):
    labels = serializers.DictField(child=serializers.CharField())
    value = serializers.FloatField(allow_null=True)


class FigureSerializer(serializers.Serializer):
    group = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField()
    description = serializers.CharField()
    period = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    value = serializers.FloatField(allow_null=True, help_text="The figure, for queries without extra labels.")
    values = ValueSerializer(many=True)


class LimitsSerializer(serializers.Serializer):
    storage_bytes = serializers.IntegerField()
    parallel_requests = serializers.IntegerField()


class RegistrySummarySerializer(serializers.Serializer):
    registry_id = serializers.IntegerField()
    namespace = serializers.CharField()
    phase = serializers.CharField()
    health = VerdictSerializer()
    metrics = MetricsStateSerializer()
    limits = LimitsSerializer()
    figures = serializers.DictField(child=FigureSerializer())


class SeriesSerializer(serializers.Serializer):
    labels = serializers.DictField(child=serializers.CharField())
    points = serializers.ListField(
        child=serializers.ListField(
            child=serializers.FloatField(allow_null=True), min_length=2, max_length=2
        ),
        help_text="[Unix seconds, value or null] pairs.",
    )


class RegistrySeriesSerializer(serializers.Serializer):
    registry_id = serializers.IntegerField()
    namespace = serializers.CharField()
    range = serializers.CharField()
    start = serializers.FloatField()
    end = serializers.FloatField()
    step = serializers.IntegerField()
    metrics = MetricsStateSerializer()
    series = serializers.DictField(child=SeriesSerializer(many=True))


class ConsumerSerializer(serializers.Serializer):
    registry_id = serializers.IntegerField()
    tenant = serializers.CharField(source="tenant_slug")
    registry = serializers.CharField(source="name")
    namespace = serializers.CharField()
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    phase = serializers.CharField()
    storage_limit_bytes = serializers.IntegerField(source="storage_limit")
    parallel_request_limit = serializers.IntegerField(source="parallel_limit")
    storage_share = serializers.FloatField(allow_null=True)
    peak_share = serializers.FloatField(allow_null=True)
    figures = serializers.DictField(child=serializers.FloatField(allow_null=True))
    since = serializers.DictField(
        child=serializers.FloatField(),
        help_text="For figures over a period (growth, pulls, pulls_per_day) of a registry younger than the "
        "period: the Unix time its count starts from. Absent: the figure covers the whole period.",
    )


class PlanMixSerializer(serializers.Serializer):
    plan = serializers.CharField()
    plan_name = serializers.CharField()
    registries = serializers.IntegerField()
    storage_used_bytes = serializers.FloatField(source="storage")
    storage_limit_bytes = serializers.IntegerField(source="storage_limit")


class BusinessSerializer(serializers.Serializer):
    range = serializers.CharField()
    sort = serializers.CharField()
    metrics = MetricsStateSerializer()
    tenants = serializers.IntegerField()
    registries_by_phase = serializers.DictField(child=serializers.IntegerField())
    totals = serializers.DictField(child=serializers.FloatField(allow_null=True))
    short_history = serializers.IntegerField(
        help_text="Registries younger than the period: their growth and pulls count since their first data."
    )
    earliest_data = serializers.FloatField(
        allow_null=True, help_text="When the oldest data of those registries starts (Unix seconds)."
    )
    plan_mix = PlanMixSerializer(many=True)
    top_consumers = ConsumerSerializer(many=True)
    near_quota = ConsumerSerializer(many=True)
    peak_parallel = ConsumerSerializer(many=True)


class QuerySerializer(serializers.Serializer):
    key = serializers.CharField()
    group = serializers.CharField()
    title = serializers.CharField()
    unit = serializers.CharField()
    description = serializers.CharField()
    by = serializers.ListField(child=serializers.CharField())
    promql = serializers.CharField(help_text="For the whole fleet, with the default period.")
