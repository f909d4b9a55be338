"""The fleet overview and its API show the figures Prometheus holds: checked against the generated history."""

from __future__ import annotations

import pytest
from django.test import Client

from monitoring.units import format_value
from tests.fixtures.prometheus import MonitoredFleet
from tests.monitoring import promql_model as pm
from tests.monitoring.htmlcells import elements, evaluated_at, table_values

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]

FIGURES: dict[str, pm.Figure] = {
    "storage_used": pm.storage_used,
    "error_ratio": pm.error_ratio,
    "mean_latency": pm.mean_latency,
    "pulls_per_day": pm.pulls,
}


def test_fleet_table_shows_the_figures_computed_from_the_history(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    response = viewer_client.get("/monitoring/")
    assert response.status_code == 200
    html = response.content.decode()
    t = evaluated_at(html)
    shown = table_values(html)
    assert set(shown) == {tenant.namespace for tenant in monitored_fleet.prometheus.fleet}
    checked = 0
    for tenant in monitored_fleet.prometheus.fleet:
        for column, figure in FIGURES.items():
            expected = figure(model, tenant.namespace, t)
            assert pm.close(shown[tenant.namespace][column], expected), (tenant.slug, column, expected)
            checked += expected is not None
    assert checked >= 35  # only the down tenant lacks its request figures
    acme = monitored_fleet.prometheus.tenant("acme").namespace
    text = format_value(pm.error_ratio(model, acme, t), "ratio")
    assert text in html


def test_fleet_api_shows_the_same_figures(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert body["metrics"]["status"] == "ok"
    t = body["metrics"]["evaluated_at"]
    assert body["count"] == len(monitored_fleet.prometheus.fleet)
    for row in body["results"]:
        ns = row["namespace"]
        assert pm.close(row["storage_used_bytes"], pm.storage_used(model, ns, t))
        assert pm.close(row["error_ratio"], pm.error_ratio(model, ns, t))
        assert pm.close(row["mean_latency_seconds"], pm.mean_latency(model, ns, t))
        assert pm.close(row["pulls_per_day"], pm.pulls(model, ns, t))
        assert pm.close(row["pods_not_ready"], pm.pods_not_ready(model, ns, t))
        down = sorted(c for c, v in pm.components(model, ns, t).items() if v == 0)
        assert row["components_down"] == down
        assert (
            row["storage_limit_bytes"]
            == monitored_fleet.registry(row["tenant"]).effective().storage_quota_gib * 1024**3
        )


def test_the_deleted_repositories_do_not_make_pulls_negative(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    hooli = monitored_fleet.prometheus.tenant("hooli").namespace
    body = viewer_client.get("/api/v1/monitoring/fleet/", {"q": "hooli"}).json()
    t = body["metrics"]["evaluated_at"]
    (row,) = body["results"]
    raw_total = 0.0
    for _, points in model.series("harbor_artifact_pulled", hooli):
        now, before = model.latest(points, t), model.latest(points, t - pm.DAY)
        assert now is not None and before is not None
        raw_total += now - before
    assert raw_total < row["pulls_per_day"]  # summing raw differences would have hidden real pulls
    assert pm.close(row["pulls_per_day"], pm.pulls(model, hooli, t))


def test_health_strip_counts_each_registry_once_by_phase_and_metrics(
    monitored_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    html = viewer_client.get("/monitoring/").content.decode()
    rows = {
        e["data-namespace"]: e["data-health"] for e in elements(html, "data-namespace") if "data-health" in e
    }
    fleet = monitored_fleet.prometheus
    assert rows == {
        fleet.tenant("acme").namespace: "Healthy",
        fleet.tenant("globex").namespace: "Degraded",  # 8-15 % of 5xx
        fleet.tenant("initech").namespace: "Down",  # core down
        fleet.tenant("umbrella").namespace: "Degraded",  # job service crash-loops
        fleet.tenant("hooli").namespace: "Healthy",
        fleet.tenant("stark").namespace: "Healthy",  # slow, not broken
        fleet.tenant("wayne").namespace: "Healthy",
        fleet.tenant("wonka").namespace: "Provisioning",
        fleet.tenant("tyrell").namespace: "Upgrading",
        fleet.tenant("cyberdyne").namespace: "Healthy",
    }
    strip = {e["data-health"]: e for e in elements(html, "data-health") if "strip-tile" in e.get("class", "")}
    counts = {
        health: html.split(f'data-health="{health}"')[1].split('class="strip-count">')[1].split("<")[0]
        for health in strip
    }
    assert counts == {
        "Healthy": "5",
        "Degraded": "2",
        "Down": "1",
        "Unknown": "0",
        "Provisioning": "1",
        "Upgrading": "1",
    }


def test_near_quota_panel_lists_tenants_at_80_percent_of_their_plan(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    html = viewer_client.get("/monitoring/").content.decode()
    t = evaluated_at(html)
    panel = html.split('id="near-quota"')[1].split("</section>")[0]
    expected = []
    for tenant in monitored_fleet.prometheus.fleet:
        limit = monitored_fleet.registry(tenant.slug).effective().storage_quota_gib * 1024**3
        if (pm.storage_used(model, tenant.namespace, t) or 0) / limit >= 0.8:
            expected.append(tenant.namespace)
    assert expected == [monitored_fleet.prometheus.tenant("hooli").namespace]
    assert [e["data-namespace"] for e in elements(panel, "data-namespace")] == expected


def test_running_version_is_shown_when_it_differs_from_the_desired_one(
    monitored_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    body = viewer_client.get("/api/v1/monitoring/fleet/", {"q": "tyrell"}).json()
    (row,) = body["results"]
    assert (row["harbor_version"], row["running_version"]) == ("2.14.4", "2.13.5")
    html = viewer_client.get("/monitoring/", {"q": "tyrell"}).content.decode()
    assert "running 2.13.5" in html


def test_one_verdict_for_each_registry_on_every_page_and_in_every_api(
    monitored_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    """The fleet API, the registry API, the monitoring API, the fleet page, the registries list, the registry page
    and its monitoring page all give each registry the same health, with the same reasons."""
    fleet = viewer_client.get("/api/v1/monitoring/fleet/").json()["results"]
    listing = viewer_client.get("/registries/", {"per_page": 100}).content.decode()
    listed = [e["data-health"] for e in elements(listing, "data-health")]
    fleet_page = viewer_client.get("/monitoring/").content.decode()
    rows = {e["data-registry-id"]: e["data-health"] for e in elements(fleet_page, "data-registry-id")}
    assert len(fleet) == len(monitored_fleet.registries) == len(listed)
    for row in fleet:
        pk = row["registry_id"]
        registry_api = viewer_client.get(f"/api/v1/registries/{pk}/").json()["health"]
        summary = viewer_client.get(f"/api/v1/monitoring/registries/{pk}/").json()["health"]
        assert registry_api == summary == {"state": row["health"], "reasons": row["reasons"]}, row["tenant"]
        assert rows[str(pk)] == row["health"]
        for path in (f"/registries/{pk}/", f"/monitoring/registries/{pk}/"):
            page = viewer_client.get(path).content.decode()
            health_line = page.split('id="health"')[1][:600]  # the verdict's badge opens the health block
            assert f'data-health="{row["health"]}"' in health_line, path
    assert sorted(listed) == sorted(r["health"] for r in fleet)
