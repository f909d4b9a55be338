"""Idempotency-Key on creating POSTs: a retry returns the first result, never a duplicate."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from provisioning.models import ApiToken, IdempotencyKey, ReconcileRun, Registry, Tenant
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def tenant_body(suffix="a"):
    return {"slug": f"i{factories.RUN}-{next(factories._seq)}{suffix}", "name": "Idempotent tenant"}


def test_a_retry_with_the_same_key_replays_the_first_answer(operator_api):
    body = tenant_body()
    first = operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")
    again = operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="order-42")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Tenant.objects.filter(slug=body["slug"]).count() == 1


def test_key_order_in_the_body_does_not_matter(operator_api):
    body = tenant_body()
    reordered = dict(reversed(list(body.items())))
    operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-order")
    assert (
        operator_api.post(
            "/api/v1/tenants/", reordered, format="json", HTTP_IDEMPOTENCY_KEY="k-order"
        ).status_code
        == 201
    )
    assert Tenant.objects.filter(slug=body["slug"]).count() == 1


def test_registry_creation_is_idempotent_with_its_run(operator_api):
    tenant, cluster = factories.tenant(), factories.cluster()
    body = {
        "tenant": tenant.slug,
        "name": "once",
        "plan": "s",
        "cluster": cluster.name,
        "hostname": f"once.{tenant.slug}.registry.example.com",
    }
    first = operator_api.post("/api/v1/registries/", body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")
    again = operator_api.post("/api/v1/registries/", body, format="json", HTTP_IDEMPOTENCY_KEY="reg-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    registry = Registry.objects.get(tenant=tenant, name="once")
    assert ReconcileRun.objects.filter(registry=registry).count() == 1


def test_the_same_key_with_another_body_is_422(operator_api):
    operator_api.post("/api/v1/tenants/", tenant_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    other = tenant_body("b")

    response = operator_api.post("/api/v1/tenants/", other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused" and "k-1" in error["message"]
    assert not Tenant.objects.filter(slug=other["slug"]).exists()


def test_the_same_key_on_another_endpoint_is_422(admin_api):
    body = {"name": f"p{factories.RUN}-{next(factories._seq)}", "display_name": "P"}
    admin_api.post("/api/v1/tenants/", tenant_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = admin_api.post("/api/v1/plans/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422


def test_keys_belong_to_their_user(operator_api):
    body = tenant_body()
    operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    other_user = token_client(factories.user("operator"))
    response = other_user.post(
        "/api/v1/tenants/", tenant_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert response.status_code == 201
    assert IdempotencyKey.objects.filter(key="shared").count() == 2


def test_a_refused_request_does_not_burn_its_key(operator_api):
    body = tenant_body()
    refused = operator_api.post(
        "/api/v1/tenants/",
        {**body, "slug": "Not A Slug"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="fix-and-retry",
    )
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.filter(key="fix-and-retry").exists()
    fixed = operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="fix-and-retry")
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 201, "tab\tinside"])
def test_a_malformed_key_is_400(operator_api, key):
    response = operator_api.post("/api/v1/tenants/", tenant_body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["error"]["fields"]


def test_tokens_refuse_a_key_because_theirs_is_never_stored(viewer_api, viewer):
    response = viewer_api.post("/api/v1/tokens/", {"name": "ci"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert response.status_code == 400
    assert ApiToken.objects.filter(user=viewer, name="ci").count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_create_one_object():
    """Two clients race with the same key: PostgreSQL makes the second wait, then it replays the first."""
    user = factories.user("operator")
    _, raw = ApiToken.issue(user, "race")
    body = tenant_body()
    barrier = threading.Barrier(4)
    answers: list[tuple[int, dict]] = []

    def create() -> None:
        client = token_client(None)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        barrier.wait()
        try:
            response = client.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY="race-1")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [status for status, _ in answers] == [201] * 4
    assert len({body["id"] for _, body in answers}) == 1
    assert Tenant.objects.filter(slug=body["slug"]).count() == 1
