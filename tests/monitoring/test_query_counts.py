"""The fleet overview costs the same number of Prometheus and SQL queries for 10 and for 200 tenants."""

from __future__ import annotations

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from monitoring.prometheus import capture_queries
from tests import factories
from tests.fixtures.prometheus import MonitoredFleet, clear_prometheus_cache
from tests.monitoring.scale import add_registries

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]

MAX_PROMETHEUS_QUERIES = 12
MAX_SQL_QUERIES = 15


SERVED = (
    'prometheus_http_requests_total{code="200",handler="/api/v1/query"}',
    'prometheus_http_requests_total{code="200",handler="/api/v1/query_range"}',
)


def prometheus_served(url: str) -> float:
    """Instant and range queries Prometheus itself says it answered (its own counters)."""
    text = requests.get(f"{url}/metrics", timeout=5).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(SERVED))


def cost_of(client: Client, url: str, path: str) -> tuple[int, int, int]:
    """(Prometheus queries sent, Prometheus queries served, SQL queries) of one cold-cache request."""
    clear_prometheus_cache()
    served_before = prometheus_served(url)
    with capture_queries() as sent, CaptureQueriesContext(connection) as sql:
        response = client.get(path)
    assert response.status_code == 200
    assert 'data-metrics-status="unavailable"' not in response.content.decode()
    return len(sent), int(prometheus_served(url) - served_before), len(sql)


LIVE_POLL = {"HX-Request": "true", "HX-Trigger": "fleet-live", "HX-Target": "fleet-live"}


@pytest.mark.parametrize(
    "path", ["/monitoring/", "/api/v1/monitoring/fleet/", "/registries/", "/api/v1/registries/?limit=100"]
)
def test_fleet_overview_cost_does_not_grow_with_the_fleet(
    monitored_fleet: MonitoredFleet, viewer_client: Client, path: str
) -> None:
    url = monitored_fleet.prometheus.url
    viewer_client.get(path)  # the session and role are loaded the same way on every later request
    small = cost_of(viewer_client, url, path)
    add_registries(190, factories.cluster())
    large = cost_of(viewer_client, url, path)
    print(f"\n{path}: 10 tenants {small}, 200 tenants {large} (Prometheus sent, served, SQL)")
    assert small == large
    sent, served, sql = large
    assert sent == served, "every query the console counts reached Prometheus, and no other"
    assert sent <= MAX_PROMETHEUS_QUERIES
    assert sql <= MAX_SQL_QUERIES


def test_live_polls_cost_a_constant_number_of_queries_and_nothing_once_cached(
    monitored_fleet: MonitoredFleet, viewer_client: Client, settings
) -> None:
    """The fleet's live region and a registry's page poll every few seconds: constant SQL, and no Prometheus
    query while the cached answers last."""
    settings.PROMETHEUS_CACHE_SECONDS = 86400
    registry = monitored_fleet.registry("globex")
    polls = {
        "/": LIVE_POLL,
        f"/registries/{registry.pk}/status/": {
            "HX-Request": "true", "HX-Trigger": "registry-live", "HX-Target": "registry-live"
        },
        f"/monitoring/registries/{registry.pk}/panel": {"HX-Request": "true"},
    }  # fmt: skip

    def cost() -> list[tuple[int, int]]:
        out = []
        for path, headers in polls.items():
            viewer_client.get(path, headers=headers)  # warm the cache
            with capture_queries() as sent, CaptureQueriesContext(connection) as sql:
                assert viewer_client.get(path, headers=headers).status_code == 200
            out.append((len(sent), len(sql)))
        return out

    small = cost()
    add_registries(100, factories.cluster())
    large = cost()
    print(f"\nlive polls (Prometheus, SQL): 10 tenants {small}, 110 tenants {large}")
    assert small == large
    assert all(sent == 0 for sent, _ in large)


def test_fleet_page_lists_the_200_tenants_over_pages(
    monitored_fleet: MonitoredFleet, viewer_client: Client
) -> None:
    add_registries(190, factories.cluster())
    first = viewer_client.get("/monitoring/", {"sort": "tenant"}).content.decode()
    table = first.split('id="fleet-table"')[1]
    assert 'data-count="200"' in table
    assert table.count("<tr data-namespace=") == 50
    assert table.index('data-namespace="harbor-acme-main"') < table.index(
        'data-namespace="harbor-bulk0-main"'
    )
    last = viewer_client.get("/monitoring/", {"sort": "tenant", "page": "4"}).content.decode()
    assert last.split('id="fleet-table"')[1].count("<tr data-namespace=") == 50
    assert "Page 4 of 4" in last
    partial = viewer_client.get(
        "/monitoring/",
        {"sort": "tenant", "page": "2"},
        headers={"HX-Request": "true", "HX-Target": "fleet-table"},
    ).content.decode()
    assert "<html" not in partial and partial.count("<tr data-namespace=") == 50


def test_a_warm_cache_sends_no_query(
    monitored_fleet: MonitoredFleet, viewer_client: Client, settings
) -> None:
    settings.PROMETHEUS_CACHE_SECONDS = 86400  # one evaluation instant (and cache key) for the whole test
    viewer_client.get("/monitoring/")
    with capture_queries() as sent:
        response = viewer_client.get("/monitoring/")
    assert response.status_code == 200
    assert sent == []
