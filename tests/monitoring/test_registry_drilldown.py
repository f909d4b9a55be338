"""A registry's drill-down, the panel the registry page embeds, and the per-registry API: their figures and
series equal what the generated history says."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from provisioning.models import Registry
from tests.fixtures.prometheus import MonitoredFleet
from tests.monitoring import promql_model as pm
from tests.monitoring.htmlcells import elements, evaluated_at

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]

CURRENT: dict[str, pm.Figure] = {
    "storage_used": pm.storage_used,
    "error_ratio": pm.error_ratio,
    "mean_latency": pm.mean_latency,
    "request_rate": pm.request_rate,
    "pods_not_ready": pm.pods_not_ready,
    "pulls": pm.pulls,
    "pushes": pm.pushes,
    "storage_forecast": pm.storage_forecast,
}


def figure_values(html: str) -> dict[str, float | None]:
    out = {}
    for found in re.finditer(r'<tr data-figure="([a-z_0-9]+)">(.*?)</tr>', html, re.S):
        values = re.findall(r'data-value="([^"]*)"', found.group(2))
        if len(values) == 1:
            out[found.group(1)] = float(values[0]) if values[0] else None
    return out


@pytest.mark.parametrize("slug", ["acme", "globex", "umbrella", "hooli"])
def test_drilldown_figures_equal_the_history(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client, slug: str
) -> None:
    registry = monitored_fleet.registry(slug)
    html = viewer_client.get(f"/monitoring/registries/{registry.pk}/").content.decode()
    t = evaluated_at(html)
    shown = figure_values(html)
    for key, figure in CURRENT.items():
        assert pm.close(shown[key], figure(model, registry.namespace, t)), key
    assert pm.close(shown["storage_growth"], pm.storage_growth(model, registry.namespace, t, 7 * pm.DAY))
    assert pm.close(shown["peak_inflight"], pm.peak_inflight(model, registry.namespace, t, pm.DAY))
    assert pm.close(shown["egress"], pm.egress(model, registry.namespace, t, pm.DAY))


def test_drilldown_shows_component_chips_and_the_registrys_conditions(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    registry = monitored_fleet.registry("umbrella")
    Registry.objects.filter(pk=registry.pk).update(
        conditions=[
            {
                "type": "Available",
                "status": "False",
                "reason": "WorkloadUnavailable",
                "message": "jobservice: 0 of 2 replicas available.",
                "whose_move": "provider",
                "last_transition_time": "2026-01-01T00:00:00Z",
            }
        ]
    )
    html = viewer_client.get(f"/monitoring/registries/{registry.pk}/").content.decode()
    t = evaluated_at(html)
    chips = {e["data-component"]: e["class"] for e in elements(html, "data-component")}
    expected = pm.components(model, registry.namespace, t)
    assert set(chips) == set(expected)
    assert {name for name, css in chips.items() if "chip-down" in css} == {"jobservice"}
    assert "jobservice: 0 of 2 replicas available." in html
    assert 'data-condition="Available"' in html
    assert "Provider&#x27;s move" in html  # the console's words for whose move it is, as on every page


@pytest.mark.parametrize("period", ["1h", "6h", "24h", "7d"])
def test_drilldown_draws_every_chart_for_each_period(
    monitored_fleet: MonitoredFleet, viewer_client: Client, period: str
) -> None:
    registry = monitored_fleet.registry("cyberdyne")
    html = viewer_client.get(f"/monitoring/registries/{registry.pk}/", {"range": period}).content.decode()
    charts = re.findall(r'<figure class="chart-card" data-chart="([a-z_0-9]+)">(.*?)</figure>', html, re.S)
    assert len(charts) == 13
    for key, chart in charts:
        assert "<polyline" in chart, f"{key} over {period} has no line"
        assert "No data for this period" not in chart
    storage = dict(charts)["storage"]
    assert 'class="limit"' in storage and "600 GiB" in storage  # the plan's limit, with its unit
    assert "UTC" in storage


def test_series_api_points_equal_the_history(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    registry = monitored_fleet.registry("globex")
    body = viewer_client.get(
        f"/api/v1/monitoring/registries/{registry.pk}/series/",
        {"query": ["storage_used", "request_rate", "error_ratio"], "range": "24h"},
    ).json()
    assert body["metrics"]["status"] == "ok"
    assert (body["step"], body["end"] - body["start"]) == (1200, 86400)
    window = float(max(body["step"], 300))
    checks: dict[str, Callable[[float], float | None]] = {
        "storage_used": lambda t: pm.storage_used(model, registry.namespace, t),
        "request_rate": lambda t: pm.request_rate(model, registry.namespace, t, window),
        "error_ratio": lambda t: pm.error_ratio(model, registry.namespace, t, window),
    }
    for key, expected_at in checks.items():
        (series,) = body["series"][key]
        points = series["points"]
        assert len(points) == 73
        for t, value in points:
            assert pm.close(value, expected_at(t)), (key, t)


def test_summary_api_has_every_catalogue_figure(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    registry = monitored_fleet.registry("initech")
    body = viewer_client.get(f"/api/v1/monitoring/registries/{registry.pk}/").json()
    from monitoring.queries import CATALOGUE

    assert set(body["figures"]) == {q.key for q in CATALOGUE}
    assert all(f["status"] == "ok" for f in body["figures"].values())
    t = body["metrics"]["evaluated_at"]
    assert body["figures"]["health"]["value"] == 0
    down = {v["labels"]["component"] for v in body["figures"]["components_down"]["values"]}
    assert down == {"core"}
    assert body["figures"]["error_ratio"]["value"] is None  # core has been down for 40 minutes
    assert pm.close(body["figures"]["storage_used"]["value"], pm.storage_used(model, registry.namespace, t))
    assert body["figures"]["crash_loops"]["value"] == 3  # three core replicas on the L plan
    assert body["limits"] == {"storage_bytes": 5120 * 1024**3, "parallel_requests": 90}


def test_panel_is_a_fragment_with_the_key_figures(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    registry = monitored_fleet.registry("hooli")
    response = viewer_client.get(
        f"/monitoring/registries/{registry.pk}/panel", headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html and "<body" not in html
    t = evaluated_at(html)
    figures = {e["data-figure"]: e.get("data-value") for e in elements(html, "data-figure")}
    assert pm.close(float(figures["storage_used"] or "nan"), pm.storage_used(model, registry.namespace, t))
    assert pm.close(float(figures["pulls"] or "nan"), pm.pulls(model, registry.namespace, t))
    assert "usage-near" in html  # hooli is past 80 % of its quota
    assert 'data-chart="requests"' in html
    assert f'href="/monitoring/registries/{registry.pk}/"' in html
