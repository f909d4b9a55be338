"""Logged-in pages and API answers are never stored by a browser or a proxy, static files still are; production
refuses DEBUG at start with a message naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from provisioning.models import ApiToken
from tests.foundation.test_deployment import ROOT, production_env
from tests.ui.conftest import logged_in


def assert_not_stored(response) -> None:
    cache_control = response["Cache-Control"]
    assert "no-store" in cache_control and "private" in cache_control, cache_control
    assert response["Pragma"] == "no-cache"
    assert {"Cookie", "Authorization"} <= {part.strip() for part in response["Vary"].split(",")}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/registries/",
        "/tenants/",
        "/clusters/",
        "/audit/",
        "/monitoring/business/",
        "/account/",
        "/registries/999999/",
    ],
)
def test_every_logged_in_page_is_marked_not_to_be_stored(admin_user, path):
    assert_not_stored(logged_in(admin_user).get(path))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/api/v1/", "/api/v1/registries/", "/api/v1/tenants/999999/", "/api/schema/"]
)
def test_every_api_answer_to_a_token_is_marked_not_to_be_stored(viewer, path):
    _, raw = ApiToken.issue(viewer, "cache")
    assert_not_stored(APIClient().get(path, HTTP_AUTHORIZATION=f"Bearer {raw}"))


@pytest.mark.django_db
def test_refusals_to_anonymous_callers_are_not_stored_either():
    assert_not_stored(APIClient().get("/api/v1/registries/"))
    assert_not_stored(Client().get(reverse("login")))


def test_static_files_stay_cacheable(client):
    response = client.get("/static/css/console.css")
    assert response.status_code == 200 and "no-store" not in response.get("Cache-Control", "")


def test_production_refuses_debug_at_start(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=production_env(tmp_path, DEBUG="true"),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DEBUG=true is refused in production" in result.stderr
