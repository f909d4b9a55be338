"""Prometheus stopped, hanging or not configured: every monitoring page and API answers at once with a clear
state, shows what the database knows, and the rest of the console keeps working."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

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
