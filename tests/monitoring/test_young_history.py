"""Figures over a period on a fleet younger than the period: counted over the data that exists, and said so.

The Prometheus of these tests started scraping the fleet ten hours ago; the business dashboard's default period
is seven days and the fleet's pulls are per day. The expected figures come from the generated samples.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.fixtures.prometheus import YOUNG_HISTORY_HOURS, MonitoredFleet
from tests.monitoring import promql_model as pm
from tests.monitoring.htmlcells import evaluated_at, table_values

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]

WEEK = 7 * pm.DAY
WEEK_STEP = 3600  # the young series are read hour by hour over a week, every ten minutes over a day
DAY_STEP = 600


def test_business_week_counts_growth_and_pulls_over_the_ten_hours_that_exist(
    young_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    model = pm.Model(young_fleet.prometheus.history)
    body = viewer_client.get("/api/v1/monitoring/business/", {"range": "7d", "sort": "growth"}).json()
    assert body["metrics"]["status"] == "ok"
    t = body["metrics"]["evaluated_at"]
    by_ns = {c["namespace"]: c for c in body["top_consumers"]}
    assert set(by_ns) == {tenant.namespace for tenant in young_fleet.prometheus.fleet}  # no "—" any more
    for ns, consumer in by_ns.items():
        growth, growth_since = pm.storage_growth_existing(model, ns, t, WEEK, WEEK_STEP)
        pulls, pulls_since = pm.pulls_existing(model, ns, t, WEEK, WEEK_STEP)
        assert pm.close(consumer["figures"]["growth"], growth), ns
        assert pm.close(consumer["figures"]["pulls"], pulls), ns
        assert consumer["since"]["growth"] == growth_since and consumer["since"]["pulls"] == pulls_since
        assert t - growth_since <= YOUNG_HISTORY_HOURS * 3600  # it says how much history the figure covers
    assert body["short_history"] == len(by_ns)
    assert t - body["earliest_data"] <= YOUNG_HISTORY_HOURS * 3600
    totals = sum(pm.storage_growth_existing(model, ns, t, WEEK, WEEK_STEP)[0] or 0 for ns in by_ns)
    assert pm.close(body["totals"]["growth"], totals)


def test_business_page_says_the_history_is_shorter_than_the_period(
    young_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    model = pm.Model(young_fleet.prometheus.history)
    html = viewer_client.get("/monitoring/business/").content.decode()  # the default: 7 days
    t = evaluated_at(html)
    assert 'id="short-history" data-short-history="10"' in html
    assert "less than 7 days of history" in html
    top = html.split('id="top-consumers"')[1].split("</section>")[0]
    for ns, columns in table_values(top).items():
        assert pm.close(columns["growth"], pm.storage_growth_existing(model, ns, t, WEEK, WEEK_STEP)[0]), ns
        assert columns["pulls"] is not None


def test_fleet_pulls_per_day_of_registries_younger_than_a_day(
    young_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    model = pm.Model(young_fleet.prometheus.history)
    body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    t = body["metrics"]["evaluated_at"]
    for row in body["results"]:
        pulls, since = pm.pulls_existing(model, row["namespace"], t, pm.DAY, DAY_STEP)
        assert pulls is not None and pm.close(row["pulls_per_day"], pulls), row["namespace"]
        assert row["pulls_since"] == since
    html = viewer_client.get("/monitoring/").content.decode()
    assert "pulls per day of 10 registries younger than a day count since their first figures" in html


def test_the_drilldown_period_figures_are_not_blank_either(
    young_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    registry = young_fleet.registry("acme")
    html = viewer_client.get(f"/monitoring/registries/{registry.pk}/").content.decode()
    growth = html.split('data-figure="storage_growth"')[1].split("</tr>")[0]
    assert "data-value=" in growth and 'data-value=""' not in growth
