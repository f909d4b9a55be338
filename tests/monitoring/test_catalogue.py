"""Every named query is valid PromQL that a real Prometheus evaluates, for the fleet and for one tenant."""

from __future__ import annotations

import re

import pytest
import requests

from monitoring import queries
from monitoring.queries import CATALOGUE, Group, Query
from monitoring.ranges import BUSINESS_PERIODS, CHART_PERIODS
from monitoring.units import Unit
from tests.fixtures.prometheus import PrometheusHistory

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]


def ask(url: str, promql: str) -> list[dict]:
    body = requests.get(f"{url}/api/v1/query", params={"query": promql}, timeout=10).json()
    assert body["status"] == "success", (promql, body)
    return body["data"]["result"]


@pytest.mark.parametrize("query", CATALOGUE, ids=lambda q: q.key)
def test_every_query_evaluates_for_the_fleet_and_one_tenant(
    prometheus_history: PrometheusHistory, query: Query
) -> None:
    fleet = ask(prometheus_history.url, query.promql())
    namespaces = {item["metric"].get("namespace") for item in fleet}
    assert None not in namespaces, "every series of a fleet query names its tenant"
    for item in fleet:
        assert set(item["metric"]) <= {"namespace", *query.by}, "aggregated by namespace and the named labels"
    acme = prometheus_history.tenant("acme").namespace
    one = ask(prometheus_history.url, query.for_namespace(acme))
    assert {item["metric"]["namespace"] for item in one} <= {acme}


QUIET = {"crash_loops", "oom_kills", "components_down", "volume_days_left", "job_failures"}


@pytest.mark.parametrize("query", [q for q in CATALOGUE if q.key not in QUIET], ids=lambda q: q.key)
def test_every_query_has_figures_for_a_healthy_tenant(
    prometheus_history: PrometheusHistory, query: Query
) -> None:
    cyberdyne = prometheus_history.tenant("cyberdyne").namespace
    assert ask(prometheus_history.url, query.for_namespace(cyberdyne)), f"{query.key} found nothing"


@pytest.mark.parametrize(
    "key,slug", [("crash_loops", "umbrella"), ("oom_kills", "wayne"), ("components_down", "initech")]
)
def test_quiet_queries_speak_up_when_something_is_wrong(
    prometheus_history: PrometheusHistory, key: str, slug: str
) -> None:
    namespace = prometheus_history.tenant(slug).namespace
    assert ask(prometheus_history.url, queries.get(key).for_namespace(namespace))


def test_every_query_says_what_it_is() -> None:
    keys = [q.key for q in CATALOGUE]
    assert len(keys) == len(set(keys))
    assert {q.group for q in CATALOGUE} == set(Group)
    for query in CATALOGUE:
        assert query.title and query.description.endswith((".", ")")), query.key
        assert isinstance(query.unit, Unit)
        assert "$sel" in query.expr, f"{query.key} must be selectable per tenant"
        assert "namespace" in query.expr
    business = {q.key for q in queries.by_group(Group.BUSINESS)}
    assert {
        "storage_used",
        "storage_growth",
        "storage_forecast",
        "peak_inflight",
        "pulls",
        "pushes",
    } <= business


def test_tenant_selector_escapes_quotes() -> None:
    promql = queries.get("storage_used").for_namespace('bad"ns')
    assert 'namespace="bad\\"ns"' in promql


@pytest.mark.parametrize("period", [*CHART_PERIODS.values(), *BUSINESS_PERIODS.values()], ids=lambda p: p.key)
def test_periods_use_prometheus_durations_and_whole_steps(period) -> None:
    assert re.fullmatch(r"\d+s", period.window)
    spec = period.spec(1_700_000_123.4)
    assert spec.end % period.step == 0 and spec.end - spec.start == period.seconds
