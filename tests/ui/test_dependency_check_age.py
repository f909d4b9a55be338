"""A dependency's last check is shown with its age, and as Unknown once it is stale, never as fine (issue #15)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from provisioning.choices import BindingStatus
from provisioning.models import DatabaseBinding
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def checked_ok(registry, seconds_ago: float) -> None:
    DatabaseBinding.objects.filter(registry=registry).update(
        status=BindingStatus.OK,
        status_message="answers.",
        last_checked_at=timezone.now() - timedelta(seconds=seconds_ago),
    )


def database_section(client, registry) -> str:
    response = client.get(reverse("provisioning:registry-detail", args=[registry.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    found = re.search(r"<h3>PostgreSQL database(.*?)</h3>(.*?)<h3>", body, re.S)
    assert found is not None
    return found.group(0)


def test_a_recent_ok_check_is_shown_ok(viewer_client):
    registry = factories.registry()
    checked_ok(registry, 60)
    section = database_section(viewer_client, registry)
    assert ">OK<" in section and "Unknown" not in section


def test_a_stale_ok_check_is_shown_unknown_with_its_age(viewer_client):
    registry = factories.registry()
    checked_ok(registry, 3 * settings.DEPENDENCY_CHECK_INTERVAL_SECONDS)
    section = database_section(viewer_client, registry)
    assert ">Unknown<" in section and ">OK<" not in section
    assert "older than two periodic dependency checks" in section
    assert "minutes ago" in section


def test_the_api_gives_the_age_and_unknown_when_stale(viewer):
    registry = factories.registry()
    api = token_client(viewer)
    checked_ok(registry, 60)
    fresh = api.get(f"/api/v1/registries/{registry.pk}/").json()["bindings"]["database"]
    assert (fresh["status"], fresh["last_check_status"], fresh["check_stale"]) == ("ok", "ok", False)
    assert 59 <= fresh["check_age_seconds"] < 120

    checked_ok(registry, 3 * settings.DEPENDENCY_CHECK_INTERVAL_SECONDS)
    stale = api.get(f"/api/v1/registries/{registry.pk}/").json()["bindings"]["database"]
    assert (stale["status"], stale["last_check_status"], stale["check_stale"]) == ("unknown", "ok", True)


def test_a_never_checked_dependency_is_unknown_in_the_api(viewer):
    registry = factories.registry()
    DatabaseBinding.objects.filter(registry=registry).update(status=BindingStatus.OK, last_checked_at=None)
    data = token_client(viewer).get(f"/api/v1/registries/{registry.pk}/").json()["bindings"]["database"]
    assert data["status"] == "unknown" and data["check_age_seconds"] is None and data["check_stale"] is True
