"""Monitoring pages: the fleet overview, a registry's drill-down (and the panel the registry page embeds), the
business dashboard. Views only read the query string, ask the builders and render."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from monitoring.business import CONSUMER_SORTS, build_business
from monitoring.fleet import build_overview
from monitoring.forms import BusinessForm, FleetFilterForm, PeriodForm
from monitoring.ranges import BUSINESS_PERIODS, CHART_PERIODS
from monitoring.tenant import build_drilldown, build_panel
from provisioning.health import verdict_of
from provisioning.models import Registry
from provisioning.permissions import require
from provisioning.views.live import live_response

View = TypeVar("View", bound=Callable[..., HttpResponse])


def viewing(view: View) -> View:
    """GET only, for users whose role may view (the one permission helper decides; 403 otherwise)."""

    @require_GET
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        require(request.user, "view")
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


FLEET_PARTS = {
    "fleet-table": "monitoring/includes/fleet_table.html",
    "fleet-live": "monitoring/includes/fleet_live.html",
}
"""What an htmx request aimed at a part of the fleet page gets: the filtered table, or the live region (strip,
panels, and the table out of band)."""


@viewing
def fleet(request: HttpRequest) -> HttpResponse:
    form = FleetFilterForm(request.GET)
    overview = build_overview(form.to_filter())
    context = {
        "overview": overview,
        "form": form,
        "metrics": overview.metrics,
        "now": timezone.now(),
    }
    htmx = getattr(request, "htmx", None)
    template = (
        FLEET_PARTS.get(htmx.target or "", "monitoring/fleet.html") if htmx else "monitoring/fleet.html"
    )
    context["oob_table"] = template == FLEET_PARTS["fleet-live"]
    return live_response(request, render(request, template, context))


def _registry(pk: int) -> Registry:
    return get_object_or_404(Registry.objects.with_related(), pk=pk)


@viewing
def registry(request: HttpRequest, pk: int) -> HttpResponse:
    period = PeriodForm(request.GET).chosen_period()
    registry = _registry(pk)
    drilldown = build_drilldown(registry, period)
    context = {
        "d": drilldown,
        "metrics": drilldown.metrics,
        "periods": CHART_PERIODS.values(),
        "verdict": verdict_of(registry),
    }
    return render(request, "monitoring/registry.html", context)


@viewing
def registry_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The fragment the registry page loads with htmx (no page around it), then polls as a live region."""
    period = PeriodForm(request.GET).chosen_period()
    drilldown = build_panel(_registry(pk), period)
    response = render(
        request, "monitoring/includes/registry_panel.html", {"d": drilldown, "metrics": drilldown.metrics}
    )
    return live_response(request, response)


@viewing
def business(request: HttpRequest) -> HttpResponse:
    form = BusinessForm(request.GET)
    dashboard = build_business(form.chosen_period(), form.chosen_sort())
    context = {
        "b": dashboard,
        "metrics": dashboard.metrics,
        "periods": BUSINESS_PERIODS.values(),
        "sorts": CONSUMER_SORTS.items(),
    }
    return render(request, "monitoring/business.html", context)
