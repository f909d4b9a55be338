"""The business dashboard and its API: totals, plan mix, growth, forecast, top consumers, limits."""

from __future__ import annotations

import pytest
from django.test import Client

from provisioning.models import Tenant
from tests.fixtures.prometheus import PLAN_LIMITS, MonitoredFleet
from tests.monitoring import promql_model as pm
from tests.monitoring.htmlcells import elements, evaluated_at, table_values

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]
GiB = 1024**3


def expected_figures(fleet: MonitoredFleet, model: pm.Model, t: float, period: float) -> dict[str, dict]:
    out = {}
    for tenant in fleet.prometheus.fleet:
        ns = tenant.namespace
        out[ns] = {
            "storage": pm.storage_used(model, ns, t),
            "growth": pm.storage_growth(model, ns, t, period),
            "pulls": pm.pulls(model, ns, t, period),
            "egress": pm.egress(model, ns, t, period),
            "peak_inflight": pm.peak_inflight(model, ns, t, period),
            "forecast": pm.storage_forecast(model, ns, t),
            "pulls_per_day": pm.pulls(model, ns, t),
            "pushes_per_day": pm.pushes(model, ns, t),
        }
    return out


@pytest.mark.parametrize("period_key,period", [("1d", pm.DAY), ("7d", 7 * pm.DAY)])
def test_business_api_figures_equal_the_history(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client, period_key: str, period: float
) -> None:
    body = viewer_client.get("/api/v1/monitoring/business/", {"range": period_key, "sort": "growth"}).json()
    assert body["metrics"]["status"] == "ok"
    t = body["metrics"]["evaluated_at"]
    expected = expected_figures(monitored_fleet, model, t, period)
    by_ns = {c["namespace"]: c for c in body["top_consumers"]}
    assert set(by_ns) == set(expected)  # every tenant has a week of history
    for ns, figures in expected.items():
        for key, value in figures.items():
            assert pm.close(by_ns[ns]["figures"][key], value), (ns, key)
    growth = [c["figures"]["growth"] for c in body["top_consumers"]]
    assert growth == sorted(growth, reverse=True)
    for key in ("storage", "growth", "pulls", "egress", "forecast", "pulls_per_day", "pushes_per_day"):
        total = sum(f[key] for f in expected.values() if f[key] is not None)
        assert pm.close(body["totals"][key], total), key
    assert body["tenants"] == Tenant.objects.count()
    assert body["registries_by_phase"] == {"Ready": 8, "Provisioning": 1, "Upgrading": 1}


def test_plan_mix_adds_up_registries_storage_and_limits(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    body = viewer_client.get("/api/v1/monitoring/business/").json()
    t = body["metrics"]["evaluated_at"]
    mix = {m["plan"]: m for m in body["plan_mix"]}
    for plan, (quota_gib, _parallel) in PLAN_LIMITS.items():
        tenants = [x for x in monitored_fleet.prometheus.fleet if x.plan == plan]
        assert mix[plan]["registries"] == len(tenants)
        assert mix[plan]["storage_limit_bytes"] == len(tenants) * quota_gib * GiB
        used = sum(pm.storage_used(model, x.namespace, t) or 0 for x in tenants)
        assert pm.close(mix[plan]["storage_used_bytes"], used)


def test_near_quota_and_peak_parallel_requests_against_plan_limits(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    body = viewer_client.get("/api/v1/monitoring/business/", {"range": "1d"}).json()
    t = body["metrics"]["evaluated_at"]
    assert [c["tenant"] for c in body["near_quota"]] == ["hooli"]
    shares = {}
    for tenant in monitored_fleet.prometheus.fleet:
        peak = pm.peak_inflight(model, tenant.namespace, t, pm.DAY)
        if peak is not None:
            shares[tenant.namespace] = peak / PLAN_LIMITS[tenant.plan][1]
    listed = [(c["namespace"], c["peak_share"]) for c in body["peak_parallel"]]
    assert {ns for ns, _ in listed} == set(shares)
    assert all(pm.close(share, shares[ns]) for ns, share in listed)
    assert [share for _, share in listed] == sorted((share for _, share in listed), reverse=True)


@pytest.mark.parametrize("sort", ["storage", "growth", "pulls", "egress", "peak_share"])
def test_business_page_sorts_top_consumers(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client, sort: str
) -> None:
    html = viewer_client.get("/monitoring/business/", {"range": "7d", "sort": sort}).content.decode()
    t = evaluated_at(html)
    top = html.split('id="top-consumers"')[1].split("</section>")[0]
    rows = table_values(top)
    expected = expected_figures(monitored_fleet, model, t, 7 * pm.DAY)
    for ns, columns in rows.items():
        for column in ("storage", "growth", "pulls", "egress", "peak_inflight", "forecast"):
            assert pm.close(columns[column], expected[ns][column]), (ns, column)
    order = [e["data-namespace"] for e in elements(top, "data-namespace")]
    if sort == "peak_share":
        limits = {x.namespace: PLAN_LIMITS[x.plan][1] for x in monitored_fleet.prometheus.fleet}
        key = {ns: (expected[ns]["peak_inflight"] or 0) / limits[ns] for ns in order}
    else:
        key = {ns: expected[ns][sort] or 0 for ns in order}
    assert order == sorted(order, key=lambda ns: -key[ns])
    totals = {e["data-total"]: e.get("data-value") for e in elements(html, "data-total")}
    storage_total = sum(f["storage"] or 0 for f in expected.values())
    assert pm.close(float(totals["storage"] or "nan"), storage_total)
    assert "<polyline" in html.split('id="growth-title"')[1].split("</section>")[0]


def test_a_period_longer_than_the_history_counts_what_exists_and_says_so(
    monitored_fleet: MonitoredFleet, model: pm.Model, viewer_client: Client
) -> None:
    body = viewer_client.get("/api/v1/monitoring/business/", {"range": "30d", "sort": "growth"}).json()
    assert body["metrics"]["status"] == "ok"
    t = body["metrics"]["evaluated_at"]
    month, step = 30 * pm.DAY, 4 * 3600  # the young series are read every four hours over a month
    by_ns = {c["namespace"]: c for c in body["top_consumers"]}
    assert set(by_ns) == {tenant.namespace for tenant in monitored_fleet.prometheus.fleet}
    for ns, consumer in by_ns.items():
        growth, since = pm.storage_growth_existing(model, ns, t, month, step)
        assert since is not None and 7 * pm.DAY < t - since <= 8 * pm.DAY  # eight days of history, not 30
        assert pm.close(consumer["figures"]["growth"], growth) and consumer["since"]["growth"] == since
    assert body["short_history"] == len(by_ns)


def test_bad_parameters_are_refused_in_the_api_error_shape(viewer_client: Client, db) -> None:
    response = viewer_client.get("/api/v1/monitoring/business/", {"range": "2y"})
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["range"]
    response = viewer_client.get("/api/v1/monitoring/fleet/", {"sort": "password"})
    assert response.status_code == 400
