"""Prometheus stopped, hanging or not configured: every monitoring page and API answers at once with a clear
state, shows what the database knows, and the rest of the console keeps working."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from monitoring.localprom import LocalPrometheus
from monitoring.prometheus import capture_queries
from tests.fixtures.prometheus import clear_prometheus_cache
from tests.monitoring.htmlcells import elements

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]

PAGES = (
    "/monitoring/",
    "/monitoring/business/",
    "/monitoring/registries/{pk}/",
    "/monitoring/registries/{pk}/panel",
)
API = ("/api/v1/monitoring/fleet/", "/api/v1/monitoring/business/", "/api/v1/monitoring/registries/{pk}/")


@pytest.fixture
def hanging_server() -> Iterator[str]:
    """A TCP port that accepts connections (the kernel completes them) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def fleet_db(db: None, viewer) -> tuple[Client, int]:
    from tests import factories

    registry = factories.registry(name="main", tenant=factories.tenant(slug="offline"))
    client = Client()
    client.force_login(viewer)
    clear_prometheus_cache()
    return client, registry.pk


def get_all(client: Client, pk: int) -> dict[str, tuple[str, float]]:
    """Every monitoring page and API answer, with the time it took."""
    out = {}
    for template in (*PAGES, *API):
        path = template.format(pk=pk)
        started = time.monotonic()
        response = client.get(path)
        elapsed = time.monotonic() - started
        assert response.status_code == 200, path
        out[path] = (response.content.decode(), elapsed)
    return out


def assert_state(answers: dict[str, tuple[str, float]], status: str, words: str) -> None:
    for path, (body, elapsed) in answers.items():
        print(f"{path}: {elapsed * 1000:.0f} ms")
        if path.startswith("/api/"):
            assert f'"status":"{status}"' in body, path
        else:
            states = elements(body, "data-metrics-status")
            assert [s["data-metrics-status"] for s in states] == [status], path
        assert words in body, path


def test_prometheus_stopped(fleet_db, empty_prometheus: LocalPrometheus, settings) -> None:
    client, pk = fleet_db
    settings.PROMETHEUS_URL = empty_prometheus.url
    body = client.get("/monitoring/").content.decode()
    assert "data-metrics-status" not in body  # it answered: no figures, but no error either
    empty_prometheus.stop()
    clear_prometheus_cache()
    answers = get_all(client, pk)
    assert_state(answers, "unavailable", "cannot connect to Prometheus at " + empty_prometheus.url)
    fleet = answers["/monitoring/"][0]
    assert 'data-namespace="harbor-offline-main"' in fleet  # the table still lists what the database knows
    assert "Provisioning" in fleet
    assert client.get("/healthz/ready").status_code == 200


def test_prometheus_hanging_is_given_up_after_the_timeout(fleet_db, hanging_server: str, settings) -> None:
    client, pk = fleet_db
    settings.PROMETHEUS_URL = hanging_server
    settings.PROMETHEUS_TIMEOUT_SECONDS = 1.0
    started = time.monotonic()
    body = client.get("/monitoring/").content.decode()
    print(f"first page against a hanging Prometheus: {(time.monotonic() - started) * 1000:.0f} ms")
    assert "did not answer within 1 s" in body
    with capture_queries() as sent:
        answers = get_all(client, pk)
    assert sent == [], "after a failure the source says unavailable without waiting again"
    assert_state(answers, "unavailable", "did not answer within 1 s")


def test_prometheus_not_configured(fleet_db, settings) -> None:
    client, pk = fleet_db
    settings.PROMETHEUS_URL = ""
    with capture_queries() as sent:
        answers = get_all(client, pk)
    assert sent == []
    assert_state(answers, "unconfigured", "Prometheus not configured")


def test_credentials_refused(fleet_db, settings, httpserver) -> None:
    client, _pk = fleet_db
    httpserver.expect_request("/api/v1/query").respond_with_data("Unauthorized", status=401)
    settings.PROMETHEUS_URL = httpserver.url_for("/").rstrip("/")
    settings.PROMETHEUS_TOKEN = "not-the-right-one"
    body = client.get("/monitoring/").content.decode()
    assert "refused the credentials (HTTP 401): check PROMETHEUS_TOKEN" in body
    assert "not-the-right-one" not in body


def ready_registry(client_user) -> tuple[Client, Any]:
    from provisioning.models import Registry
    from tests import factories

    registry = factories.registry(
        name="main", tenant=factories.tenant(slug="serving"), cluster=factories.observed_cluster()
    )
    Registry.objects.filter(pk=registry.pk).update(phase="Ready")
    client = Client()
    client.force_login(client_user)
    clear_prometheus_cache()
    return client, registry


def health_everywhere(client: Client, registry) -> dict[str, str]:
    """The registry's health as the fleet API, the registry API, the fleet page and the list page show it."""
    fleet = client.get("/api/v1/monitoring/fleet/").json()
    (row,) = [r for r in fleet["results"] if r["registry_id"] == registry.pk]
    detail = client.get(f"/api/v1/registries/{registry.pk}/").json()
    page = client.get("/monitoring/").content.decode()
    listing = client.get("/registries/").content.decode()
    rows = {
        e["data-namespace"]: e["data-health"] for e in elements(page, "data-namespace") if "data-health" in e
    }
    (badge,) = [e["data-health"] for e in elements(listing, "data-health")]
    healthy_tile = next(
        e for e in elements(page, "data-health") if e.get("data-count") and "strip" in e["class"]
    )
    assert healthy_tile["data-health"] == "Healthy"
    return {
        "fleet api": row["health"],
        "registry api": detail["health"]["state"],
        "fleet page": rows[registry.namespace],
        "list page": badge,
        "healthy tile": healthy_tile["data-count"],
        "reason": row["reasons"][0]["text"] if row["reasons"] else "",
        "api reason": detail["health"]["reasons"][0]["text"] if detail["health"]["reasons"] else "",
    }


def test_with_prometheus_stopped_no_registry_is_healthy_anywhere(
    db, viewer, empty_prometheus: LocalPrometheus, settings
) -> None:
    client, registry = ready_registry(viewer)
    settings.PROMETHEUS_URL = empty_prometheus.url
    empty_prometheus.stop()
    seen = health_everywhere(client, registry)
    assert {seen[k] for k in ("fleet api", "registry api", "fleet page", "list page")} == {"Unknown"}, seen
    assert seen["healthy tile"] == "0"
    assert (
        seen["reason"].startswith("Metrics unavailable: cannot connect to Prometheus") and seen["api reason"]
    )


def test_a_ready_registry_prometheus_has_no_series_for_is_unknown_not_healthy(
    db, viewer, empty_prometheus: LocalPrometheus, settings
) -> None:
    client, registry = ready_registry(viewer)
    settings.PROMETHEUS_URL = empty_prometheus.url  # it answers, but holds nothing of this registry
    seen = health_everywhere(client, registry)
    assert {seen[k] for k in ("fleet api", "registry api", "fleet page", "list page")} == {"Unknown"}, seen
    assert (
        seen["reason"]
        == f"Prometheus has no series for namespace {registry.namespace}: is its Harbor scraped?"
    )


def test_without_prometheus_configured_no_registry_is_healthy(db, viewer, settings) -> None:
    client, registry = ready_registry(viewer)
    settings.PROMETHEUS_URL = ""
    seen = health_everywhere(client, registry)
    assert {seen[k] for k in ("fleet api", "registry api", "fleet page", "list page")} == {"Unknown"}, seen
    assert "Prometheus not configured" in seen["reason"]
