"""Monitoring API: fleet summary, one registry's figures and series, the business summary, the query catalogue.

Read-only, with the API's token or session authentication and the one role rule (viewing needs the viewer role).
Query parameters are validated by the same forms as the pages; a bad value is a 400 in the API's error shape.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring import queries
from monitoring.api import serializers as s
from monitoring.business import build_business
from monitoring.fleet import SORT_CHOICES, FleetRow, build_overview
from monitoring.forms import BusinessForm, FleetFilterForm, SeriesForm
from monitoring.prometheus import PrometheusSource
from monitoring.tenant import Limits, current_figures
from provisioning.api.pagination import ApiPagination
from provisioning.api.parameters import refuse_unknown
from provisioning.api.schema import ApiAutoSchema
from provisioning.api.serializers.health import VerdictSerializer
from provisioning.health import Health, verdict_of
from provisioning.models import Registry


def _valid(form: forms.Form) -> forms.Form:
    if not form.is_valid():
        raise ValidationError({name: [str(e) for e in errors] for name, errors in form.errors.items()})
    return form


class FleetPagination(ApiPagination):
    max_limit = 500


class MonitoringView(APIView):
    """A read-only monitoring endpoint: only the query parameters it names in ``query_parameters``."""

    schema = ApiAutoSchema()
    query_parameters: tuple[str, ...] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        refuse_unknown(request, self.query_parameters)


FLEET_PARAMETERS = [
    OpenApiParameter("q", str, description="Search tenant, registry, namespace or host name."),
    OpenApiParameter("health", str, enum=[h.value for h in Health]),
    OpenApiParameter("plan", str),
    OpenApiParameter("version", str, description="Desired Harbor version."),
    OpenApiParameter("cluster", str),
    OpenApiParameter(
        "sort",
        str,
        enum=SORT_CHOICES,
        description="A column, '-' first for descending; rows without figure last.",
    ),
    OpenApiParameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": FleetPagination.max_limit, "default": 50},
        description="Rows per page.",
    ),
    OpenApiParameter("offset", {"type": "integer", "minimum": 0, "default": 0}, description="Rows to skip."),
]


class FleetView(MonitoringView):
    """Every live registry with its health and key figures (one Prometheus query per figure, fleet-wide)."""

    query_parameters = ("q", "health", "plan", "version", "cluster", "sort", "limit", "offset")

    @extend_schema(parameters=FLEET_PARAMETERS, responses=s.FleetSerializer, tags=["monitoring"])
    def get(self, request: Request) -> Response:
        form = _valid(FleetFilterForm(request.query_params))
        assert isinstance(form, FleetFilterForm)
        overview = build_overview(form.to_filter())
        paginator = FleetPagination()
        page: list[FleetRow] = paginator.paginate_queryset(overview.shown, request, view=self) or []  # type: ignore[arg-type]
        body = {
            "metrics": s.metrics_state(overview.metrics, overview.rules_missing),
            "health": {health.value: count for health, count in sorted(overview.counts.items())},
            "clusters": s.ClusterStateSerializer(overview.clusters, many=True).data,
            "count": paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": s.FleetRowSerializer(page, many=True).data,
        }
        return Response(body)


def _registry(pk: int) -> Registry:
    return get_object_or_404(Registry.objects.with_related(), pk=pk)


class RegistrySummaryView(MonitoringView):
    """Every catalogue figure of one registry now, with its plan limits."""

    @extend_schema(responses=s.RegistrySummarySerializer, tags=["monitoring"])
    def get(self, request: Request, pk: int) -> Response:
        registry = _registry(pk)
        figures, batch = current_figures(registry, PrometheusSource.from_settings())
        limits = Limits.of(registry)
        body = {
            "registry_id": registry.pk,
            "namespace": registry.namespace,
            "phase": registry.phase,
            "health": VerdictSerializer(verdict_of(registry)).data,
            "metrics": s.metrics_state(batch),
            "limits": {"storage_bytes": limits.storage_bytes, "parallel_requests": limits.parallel_requests},
            "figures": {
                key: {
                    "group": str(f.query.group),
                    "title": f.query.title,
                    "unit": str(f.query.unit),
                    "description": f.query.description,
                    "period": f.period,
                    "status": str(f.result.status),
                    "value": f.value,
                    "values": [
                        {
                            "labels": {k: v for k, v in sample.labels.items() if k != "namespace"},
                            "value": sample.value,
                        }
                        for sample in f.result.samples
                    ],
                }
                for key, f in figures.items()
            },
        }
        return Response(body)


class RegistrySeriesView(MonitoringView):
    """Time series of catalogue queries for one registry over a period (``query`` may repeat, up to 10)."""

    query_parameters = ("query", "range")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "query",
                {
                    "type": "array",
                    "items": {"type": "string", "enum": [q.key for q in queries.CATALOGUE]},
                    "minItems": 1,
                    "maxItems": 10,
                },
                required=True,
                explode=True,
                description="A catalogue query key; repeat the parameter for several (up to 10).",
            ),
            OpenApiParameter("range", str, enum=["1h", "6h", "24h", "7d"]),
        ],
        responses=s.RegistrySeriesSerializer,
        tags=["monitoring"],
    )
    def get(self, request: Request, pk: int) -> Response:
        form = _valid(SeriesForm(request.query_params))
        assert isinstance(form, SeriesForm)
        registry = _registry(pk)
        period = form.chosen_period()
        source = PrometheusSource.from_settings()
        spec = period.spec(source.evaluation_time())
        promql = {
            key: queries.get(key).for_namespace(registry.namespace, window=period.window)
            for key in form.cleaned_data["query"]
        }
        batch = source.range(promql, spec)
        body = {
            "registry_id": registry.pk,
            "namespace": registry.namespace,
            "range": period.key,
            "start": spec.start,
            "end": spec.end,
            "step": spec.step,
            "metrics": s.metrics_state(batch),
            "series": {
                key: [
                    {
                        "labels": {k: v for k, v in series.labels.items() if k != "namespace"},
                        "points": [[t, v] for t, v in series.points],
                    }
                    for series in result.series
                ]
                for key, result in batch.results.items()
            },
        }
        return Response(body)


class BusinessView(MonitoringView):
    """Totals, plan mix, top consumers, tenants near quota and peak parallel requests over a period."""

    query_parameters = ("range", "sort")

    @extend_schema(
        parameters=[
            OpenApiParameter("range", str, enum=["1d", "7d", "30d"]),
            OpenApiParameter("sort", str, enum=["storage", "growth", "pulls", "egress", "peak_share"]),
        ],
        responses=s.BusinessSerializer,
        tags=["monitoring"],
    )
    def get(self, request: Request) -> Response:
        form = _valid(BusinessForm(request.query_params))
        assert isinstance(form, BusinessForm)
        dashboard = build_business(form.chosen_period(), form.chosen_sort())
        body: dict[str, Any] = {
            "range": dashboard.period.key,
            "sort": dashboard.sort,
            "metrics": s.metrics_state(dashboard.metrics),
            "tenants": dashboard.tenants,
            "registries_by_phase": dashboard.phases,
            "totals": dashboard.totals,
            "short_history": len(dashboard.short_history),
            "earliest_data": dashboard.earliest_data,
            "plan_mix": s.PlanMixSerializer(dashboard.plan_mix, many=True).data,
            "top_consumers": s.ConsumerSerializer(dashboard.top, many=True).data,
            "near_quota": s.ConsumerSerializer(dashboard.near_quota, many=True).data,
            "peak_parallel": s.ConsumerSerializer(dashboard.peak_parallel, many=True).data,
        }
        return Response(body)


class QueryCatalogueView(MonitoringView):
    """The named queries behind every figure, with their unit and meaning."""

    @extend_schema(responses=s.QuerySerializer(many=True), tags=["monitoring"])
    def get(self, request: Request) -> Response:
        body = [
            {
                "key": q.key,
                "group": str(q.group),
                "title": q.title,
                "unit": str(q.unit),
                "description": q.description,
                "by": list(q.by),
                "promql": q.promql(),
            }
            for q in queries.CATALOGUE
        ]
        return Response(body)
