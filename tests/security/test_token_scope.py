"""API tokens expire, carry a scope never above their owner's role (at creation and at every use), and record their
last use at most once a minute; the account page and the API show all three."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from provisioning.models import ApiToken, AuditEvent
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def create(client: APIClient, **body):
    return client.post("/api/v1/tokens/", {"name": "automation", **body}, format="json")


def test_an_expired_token_is_refused_with_a_clear_401(viewer):
    token, raw = ApiToken.issue(viewer, "old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    response = bearer(raw).get("/api/v1/tenants/")

    assert response.status_code == 401
    assert "The token expired on" in response.json()["error"]["message"]


def test_a_read_only_token_of_an_admin_can_only_read(admin_user):
    _, raw = ApiToken.issue(admin_user, "dashboards", scope="read-only")
    client = bearer(raw)

    assert client.get("/api/v1/tenants/").status_code == 200
    refused = client.post("/api/v1/tenants/", {"slug": "nope", "name": "Nope"}, format="json")
    assert refused.status_code == 403 and "operator role" in refused.json()["error"]["message"]


def test_a_scope_above_the_owners_role_is_refused_at_creation_in_the_api_and_the_ui(operator):
    _, raw = ApiToken.issue(operator, "bootstrap", scope="operator")

    api = create(bearer(raw), scope="admin")
    ui = logged_in(operator).post(reverse("provisioning:token-create"), {"name": "x", "scope": "admin"})

    assert api.status_code == 400 and "operator" in api.json()["error"]["fields"]["scope"][0]
    assert ui.status_code == 400 and "scope" in ui.context["form"].errors
    assert ApiToken.objects.filter(user=operator).count() == 1


def test_without_a_scope_a_token_gets_the_owners_role_and_the_default_lifetime(operator, settings):
    settings.API_TOKEN_DEFAULT_DAYS = 30
    _, raw = ApiToken.issue(operator, "bootstrap", scope="operator")

    created = create(bearer(raw)).json()

    assert (
        created["scope"] == "operator" and created["state"] == "active" and created["key"].startswith("hc_")
    )
    expires = datetime.fromisoformat(created["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires - timezone.now() <= timedelta(days=30)
    event = AuditEvent.objects.filter(target_type="apitoken", action="create").latest("id")
    assert event.changes["scope"] == "operator" and created["key"] not in str(event.changes)


def test_a_lifetime_above_the_maximum_is_refused(viewer, settings):
    settings.API_TOKEN_MAX_DAYS = 60
    _, raw = ApiToken.issue(viewer, "bootstrap", scope="read-only")

    response = create(bearer(raw), expires_in_days=61)

    assert response.status_code == 400 and "60" in response.json()["error"]["fields"]["expires_in_days"][0]


def test_a_user_demoted_after_creating_a_token_gets_no_more_than_the_new_role(operator):
    _, raw = ApiToken.issue(operator, "pipeline", scope="operator")
    assert (
        bearer(raw).post("/api/v1/tenants/", {"slug": "before", "name": "B"}, format="json").status_code
        == 201
    )

    operator.groups.set([Group.objects.get(name="viewer")])

    refused = bearer(raw).post("/api/v1/tenants/", {"slug": "after", "name": "A"}, format="json")
    assert refused.status_code == 403
    assert bearer(raw).get("/api/v1/tenants/").status_code == 200


def test_last_use_is_recorded_at_most_once_a_minute(viewer):
    token, raw = ApiToken.issue(viewer, "busy")
    client = bearer(raw)

    client.get("/api/v1/tenants/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get("/api/v1/tenants/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first

    stale = timezone.now() - timedelta(seconds=61)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=stale)
    client.get("/api/v1/tenants/")
    refreshed = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and refreshed is not None and refreshed > stale + timedelta(seconds=60)
    assert client.get(f"/api/v1/tokens/{token.pk}/").json()["last_used_at"] is not None


def test_the_account_page_shows_scope_expiry_last_use_and_expired_tokens(viewer):
    _, raw = ApiToken.issue(viewer, "used-one", scope="read-only")
    bearer(raw).get("/api/v1/tenants/")
    old, _ = ApiToken.issue(viewer, "old-one", scope="read-only")
    ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(days=2))

    page = logged_in(viewer).get(reverse("provisioning:account"))
    body = page.content.decode()
    active_only = logged_in(viewer).get(reverse("provisioning:account"), {"active": "true"}).content.decode()

    assert page["Cache-Control"].count("no-store") == 1
    assert "read-only" in body and "Expires" in body and "Last used" in body
    assert "expired 2\xa0days ago" in body
    assert "used-one" in active_only and "old-one" not in active_only
    form = page.context["form"]
    assert [value for value, _ in form.fields["scope"].choices] == ["read-only"]
