"""The caller's own API tokens: the key is shown once, works at once, and stops working when revoked."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from provisioning.models import ApiToken, AuditEvent
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_the_key_is_shown_once_and_works(viewer_api, viewer):
    response = viewer_api.post("/api/v1/tokens/", {"name": "order pipeline"}, format="json")

    assert response.status_code == 201
    created = response.json()
    key = created["key"]
    assert key.startswith("hc_") and created["prefix"] == key[:10] and created["active"] is True
    assert response["Location"] == created["url"]
    listed = viewer_api.get("/api/v1/tokens/").json()["results"]
    assert all("key" not in token for token in listed)
    assert key not in viewer_api.get(created["url"]).content.decode()

    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert fresh.get("/api/v1/registries/").status_code == 200

    event = AuditEvent.objects.get(action="create", target_type="apitoken")
    assert event.actor_id == viewer.pk and key not in str(event.changes)
    assert not ApiToken.objects.filter(key_digest=key).exists(), "the raw key must not be stored"


def test_a_revoked_token_stops_working(viewer_api):
    created = viewer_api.post("/api/v1/tokens/", {"name": "short-lived"}, format="json").json()
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {created['key']}")
    assert other.get("/api/v1/plans/").status_code == 200

    assert viewer_api.delete(created["url"]).status_code == 204
    assert viewer_api.delete(created["url"]).status_code == 204  # revoking again changes nothing

    assert other.get("/api/v1/plans/").status_code == 401
    assert viewer_api.get(created["url"]).json()["active"] is False
    assert AuditEvent.objects.filter(action="revoke", target_type="apitoken").count() == 1
    assert viewer_api.get("/api/v1/tokens/?active=false").json()["count"] == 1


def test_nobody_sees_or_revokes_another_users_tokens(viewer_api, admin_user):
    token, _ = ApiToken.issue(admin_user, "admin's")
    assert viewer_api.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert viewer_api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert all(t["id"] != token.pk for t in viewer_api.get("/api/v1/tokens/").json()["results"])


def test_a_token_of_a_user_without_a_role_reads_nothing():
    client = token_client(factories.user(None))
    assert client.get("/api/v1/registries/").status_code == 403
    assert client.post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 403
