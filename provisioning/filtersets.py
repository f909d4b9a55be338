"""FilterSets of every list: the same filters, search and validation for the web console and the REST API.

Each FilterSet takes the query string of a list page or an API call. Every filter validates its value (an unknown
choice, a malformed date, a number out of range or a word other than true/false is a field error, never a silently
ignored filter), and ``search`` is the free-text box of the list.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from provisioning import catalogue
from provisioning.choices import DesiredState, ErrorClass, Phase, RunStatus, RunTrigger, Via, WhoseMove
from provisioning.health import HEALTH_CHOICES, verdicts
from provisioning.models import ApiToken, AuditEvent, Cluster, Plan, ReconcileRun, Registry, Tenant

MAX_ID = 2**63 - 1
ATTENTION_PHASES = (Phase.DEGRADED, Phase.FAILED)


class TrueFalseField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); anything else is an error rather than "no filter"."""

    widget = forms.Select(choices=[("", "Any"), ("true", "Yes"), ("false", "No")])

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise ValidationError("Use true or false.", code="invalid")


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.BooleanFilter):
    field_class = TrueFalseField


class IsoDateTimeField(forms.Field):
    """An ISO 8601 date-time (``2026-01-31T12:00:00Z``; UTC when no offset is given) or date (its midnight UTC)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value: Any) -> datetime | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            moment = parse_datetime(text)
            if moment is None and (day := parse_date(text)) is not None:
                moment = datetime.combine(day, time.min)
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError(
                "Give an ISO 8601 date-time such as 2026-01-31T12:00:00Z, or a date such as 2026-01-31."
            )
        moment = moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError("That date-time is out of range.") from None


@extend_schema_field(
    {
        "type": "string",
        "description": "ISO 8601 date-time (UTC unless an offset is given) or date.",
        "example": "2026-01-31T12:00:00Z",
    }
)
class DateTimeFilter(django_filters.Filter):
    field_class = IsoDateTimeField


class IdFilter(django_filters.NumberFilter):
    """An object id: a whole number in the range of the database's ids."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [MinValueValidator(1), MaxValueValidator(MAX_ID)])
        super().__init__(*args, **kwargs)


MAX_IN_VALUES = 200


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """Comma-separated object ids (``?id__in=3,7,12``), at most ``MAX_IN_VALUES``."""

    def filter(self, queryset: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(queryset, _at_most(value))


class CharInFilter(django_filters.BaseInFilter, django_filters.CharFilter):
    """Comma-separated names (``?tenant__in=acme,globex``), at most ``MAX_IN_VALUES``."""

    def filter(self, queryset: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(queryset, _at_most(value))


def _at_most(values: Any) -> Any:
    if values and len(values) > MAX_IN_VALUES:
        raise ValidationError(f"Give at most {MAX_IN_VALUES} values, separated by commas.")
    return values


def search_terms(value: str) -> list[str]:
    """Words of a search box, NUL characters removed (PostgreSQL refuses them), at most eight words."""
    return value.replace("\x00", "").split()[:8]


def search_q(value: str, *fields: str) -> Q:
    """Every word must appear (case-insensitively) in one of ``fields``."""
    query = Q()
    for term in search_terms(value):
        any_field = Q()
        for field in fields:
            any_field |= Q(**{f"{field}__icontains": term})
        query &= any_field
    return query


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with a ``search`` box over ``search_fields`` and ``id__in`` (a selection by ids)."""

    search_fields: tuple[str, ...] = ()
    search = django_filters.CharFilter(method="filter_search", label="Search", max_length=200)
    id__in = IdInFilter(field_name="id", lookup_expr="in", label="Ids (comma-separated)")

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(search_q(value, *self.search_fields)) if value else queryset


class TenantFilterSet(SearchFilterSet):
    search_fields = ("slug", "name", "contact_email")
    slug = django_filters.CharFilter(max_length=30)
    has_registries = BooleanFilter(method="filter_has_registries", label="Has registries")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Tenant
        fields = ["slug"]

    def filter_has_registries(self, queryset: QuerySet[Tenant], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        with_registries = Registry.objects.values("tenant_id")
        return queryset.filter(pk__in=with_registries) if value else queryset.exclude(pk__in=with_registries)


class PlanFilterSet(SearchFilterSet):
    search_fields = ("name", "display_name", "description")
    trivy_enabled = BooleanFilter()
    ha = BooleanFilter()
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Plan
        fields = ["trivy_enabled", "ha"]


class ClusterFilterSet(SearchFilterSet):
    search_fields = ("name", "display_name", "region")
    region = django_filters.CharFilter(max_length=63)
    in_cluster = BooleanFilter()
    simulated = BooleanFilter()
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")

    class Meta:
        model = Cluster
        fields = ["region", "in_cluster", "simulated"]


class RegistryFilterSet(SearchFilterSet):
    search_fields = ("name", "hostname", "namespace", "tenant__slug", "tenant__name")
    tenant = django_filters.CharFilter(field_name="tenant__slug", max_length=30, label="Tenant (slug)")
    tenant__in = CharInFilter(
        field_name="tenant__slug", lookup_expr="in", label="Tenants (slugs, comma-separated)"
    )
    plan = django_filters.ModelChoiceFilter(
        queryset=Plan.objects.all(), to_field_name="name", label="Plan (name)"
    )
    cluster = django_filters.ModelChoiceFilter(
        queryset=Cluster.objects.all(), to_field_name="name", label="Cluster (name)"
    )
    harbor_version = django_filters.MultipleChoiceFilter(
        distinct=False, choices=[(v, v) for v in catalogue.SUPPORTED_VERSIONS], label="Harbor version"
    )
    phase = django_filters.MultipleChoiceFilter(distinct=False, choices=Phase.choices)
    desired_state = django_filters.MultipleChoiceFilter(distinct=False, choices=DesiredState.choices)
    needs_attention = BooleanFilter(method="filter_needs_attention", label="Degraded or failed")
    deleted = BooleanFilter(method="filter_deleted", label="Deleted (data kept until purged)")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = DateTimeFilter(field_name="updated_at", lookup_expr="lt")
    health = django_filters.MultipleChoiceFilter(
        method="filter_health",
        choices=[(h, h) for h in HEALTH_CHOICES],
        label="Health (read from the metrics)",
    )

    class Meta:
        model = Registry
        fields = ["tenant", "plan", "cluster", "harbor_version", "phase", "desired_state"]

    def filter_needs_attention(self, queryset: QuerySet[Registry], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        return (
            queryset.filter(phase__in=ATTENTION_PHASES)
            if value
            else queryset.exclude(phase__in=ATTENTION_PHASES)
        )

    def filter_health(self, queryset: QuerySet[Registry], name: str, value: list[str]) -> Any:
        """Registries whose health verdict is one of ``value``: the metrics are read once for the candidates
        (with no metrics a registry is Unknown, never Healthy)."""
        if not value:
            return queryset
        candidates = list(Registry.objects.with_related().filter(pk__in=queryset.values("pk")))
        judged = verdicts(candidates)
        return queryset.filter(pk__in=[pk for pk, verdict in judged.items() if verdict.health in value])

    def filter_deleted(self, queryset: QuerySet[Registry], name: str, value: bool | None) -> Any:
        if value is None:
            return queryset
        deleted = Q(desired_state=DesiredState.DELETED)
        return queryset.filter(deleted) if value else queryset.exclude(deleted)


class ReconcileRunFilterSet(SearchFilterSet):
    search_fields = ("error_message", "registry__name", "registry__tenant__slug")
    registry = IdFilter(field_name="registry_id", label="Registry (id)")
    tenant = django_filters.CharFilter(
        field_name="registry__tenant__slug", max_length=30, label="Tenant (slug)"
    )
    tenant__in = CharInFilter(
        field_name="registry__tenant__slug", lookup_expr="in", label="Tenants (slugs, comma-separated)"
    )
    status = django_filters.MultipleChoiceFilter(distinct=False, choices=RunStatus.choices)
    error_class = django_filters.MultipleChoiceFilter(
        distinct=False, choices=[c for c in ErrorClass.choices if c[0]]
    )
    trigger = django_filters.MultipleChoiceFilter(distinct=False, choices=RunTrigger.choices)
    whose_move = django_filters.MultipleChoiceFilter(
        distinct=False, choices=[c for c in WhoseMove.choices if c[0]]
    )
    operation = django_filters.CharFilter(max_length=32)
    requested_after = DateTimeFilter(field_name="requested_at", lookup_expr="gte")
    requested_before = DateTimeFilter(field_name="requested_at", lookup_expr="lt")

    class Meta:
        model = ReconcileRun
        fields = ["registry", "status", "error_class", "trigger", "operation"]


class AuditEventFilterSet(SearchFilterSet):
    search_fields = ("actor_name", "action", "target_repr")
    actor = django_filters.CharFilter(field_name="actor_name", max_length=150, label="Actor (user name)")
    action = django_filters.CharFilter(max_length=32)
    target_type = django_filters.CharFilter(max_length=32)
    target_id = django_filters.CharFilter(max_length=64)
    registry = IdFilter(field_name="registry_id", label="Registry (id)")
    tenant = django_filters.CharFilter(
        field_name="registry__tenant__slug", max_length=30, label="Tenant (slug)"
    )
    tenant__in = CharInFilter(
        field_name="registry__tenant__slug", lookup_expr="in", label="Tenants (slugs, comma-separated)"
    )
    via = django_filters.MultipleChoiceFilter(distinct=False, choices=Via.choices)
    after = DateTimeFilter(field_name="at", lookup_expr="gte", label="At or after")
    before = DateTimeFilter(field_name="at", lookup_expr="lt", label="Before")

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "target_type", "target_id", "registry", "via"]


class ApiTokenFilterSet(SearchFilterSet):
    search_fields = ("name", "prefix")
    active = BooleanFilter(method="filter_active", label="Active (neither revoked nor expired)")

    class Meta:
        model = ApiToken
        fields = ["active"]

    def filter_active(
        self, queryset: QuerySet[ApiToken], name: str, value: bool | None
    ) -> QuerySet[ApiToken]:
        if value is None:
            return queryset
        active = Q(revoked_at__isnull=True, expires_at__gt=timezone.now())
        return queryset.filter(active) if value else queryset.exclude(active)
