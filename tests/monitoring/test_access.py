"""Monitoring pages and API follow the one role rule: viewers and up see them, others do not."""

from __future__ import annotations

import pytest
from django.test import Client

from provisioning.models import ApiToken
from tests import factories

PAGES = [
    "/monitoring/",
    "/monitoring/business/",
    "/monitoring/registries/{pk}/",
    "/monitoring/registries/{pk}/panel",
]
API = ["/api/v1/monitoring/fleet/", "/api/v1/monitoring/business/", "/api/v1/monitoring/registries/{pk}/",
       "/api/v1/monitoring/queries/"]  # fmt: skip


@pytest.fixture
def registry(db, settings):
    settings.PROMETHEUS_URL = ""
    return factories.registry()


def test_anonymous_visitors_are_sent_to_log_in(registry) -> None:
    for path in PAGES:
        response = Client().get(path.format(pk=registry.pk))
        assert response.status_code == 302 and "/login/" in response["Location"]
    for path in API:
        assert Client().get(path.format(pk=registry.pk)).status_code in (401, 403)


def test_users_without_a_role_are_refused(registry, stranger) -> None:
    client = Client()
    client.force_login(stranger)
    for path in PAGES + API:
        assert client.get(path.format(pk=registry.pk)).status_code == 403, path


@pytest.mark.parametrize("persona", ["viewer", "operator", "admin_user"])
def test_every_role_may_look(registry, persona, request) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    for path in PAGES + API:
        assert client.get(path.format(pk=registry.pk)).status_code == 200, path


def test_api_tokens_work_like_sessions(registry, viewer) -> None:
    _token, raw = ApiToken.issue(viewer, "dashboards")
    response = Client().get("/api/v1/monitoring/fleet/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.json()["metrics"]["status"] == "unconfigured"


def test_pages_are_read_only(registry, operator) -> None:
    client = Client()
    client.force_login(operator)
    assert client.post("/monitoring/").status_code == 405
    assert client.post("/api/v1/monitoring/fleet/").status_code == 405


def test_unknown_registry_is_404(db, viewer, settings) -> None:
    settings.PROMETHEUS_URL = ""
    client = Client()
    client.force_login(viewer)
    assert client.get("/monitoring/registries/999999/").status_code == 404
    assert client.get("/api/v1/monitoring/registries/999999/").status_code == 404
