"""Registries through the API: create, read, change, and what automation sees of their state."""

from __future__ import annotations

import pytest

from provisioning import catalogue
from provisioning.choices import DesiredState, RunStatus
from provisioning.models import AuditEvent, ReconcileRun, Registry
from tests import factories
from tests.api.conftest import deleted_registry, provisioned

pytestmark = pytest.mark.django_db

SECRETS = ("db-password-for-tests", "cache-password-for-tests", "s3-secret-for-tests", "AKIATESTS")


def create_body(**overrides):
    tenant, cluster = factories.tenant(), factories.cluster()
    n = next(factories._seq)
    body = {
        "tenant": tenant.slug,
        "name": f"api{n}",
        "plan": "m",
        "cluster": cluster.name,
        "hostname": f"api{n}.{tenant.slug}.registry.example.com",
        "harbor_version": "2.14.2",
    }
    body.update(overrides)
    return body


def test_create_answers_201_with_the_registry_and_its_first_run(operator_api, operator):
    body = create_body(replicas=2, trivy_enabled=False)
    response = operator_api.post("/api/v1/registries/", body, format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    registry = Registry.objects.get(pk=data["id"])
    assert response["Location"] == data["url"] and data["url"].endswith(f"/api/v1/registries/{registry.pk}/")
    assert response["ETag"]
    assert (data["tenant"], data["plan"], data["cluster"]) == (body["tenant"], "m", body["cluster"])
    assert data["harbor_version"] == "2.14.2" and data["replicas"] == 2 and data["trivy_enabled"] is False
    assert (
        data["effective"]["replicas"] == 2
        and data["effective"]["storage_quota_gib"] == registry.plan.storage_quota_gib
    )
    assert data["latest_run"]["status"] == RunStatus.QUEUED
    assert data["latest_run"]["url"].endswith(f"/api/v1/runs/{data['latest_run']['id']}/")
    assert {c["kind"] for c in data["components"]} >= {"core", "portal", "registry", "jobservice"}
    assert set(data["bindings"]) == {"database", "cache", "storage", "ingress"}
    assert data["upgrade_targets"] == catalogue.upgrade_targets("2.14.2")
    event = AuditEvent.objects.get(action="create", registry=registry)
    assert (event.via, event.actor_id) == ("api", operator.pk)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"storage_quota_gib": 5000}, "storage_quota_gib"),  # above the M plan's limit
        ({"replicas": 9}, "replicas"),
        ({"harbor_version": "2.12.0"}, "harbor_version"),
        ({"tenant": "no-such-tenant"}, "tenant"),
        ({"plan": "xxl"}, "plan"),
        ({"hostname": "https://bad host/"}, "hostname"),
        ({"name": "Not_DNS"}, "name"),
        ({"cache_mode": "memcached"}, "cache_mode"),
    ],
)
def test_create_refuses_invalid_values_on_their_field(operator_api, overrides, field):
    body = create_body(**overrides)
    before = Registry.objects.count()
    response = operator_api.post("/api/v1/registries/", body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]
    assert field in error["message"]
    assert Registry.objects.count() == before


def test_create_refuses_a_host_name_already_taken(operator_api):
    existing = factories.registry()
    response = operator_api.post(
        "/api/v1/registries/", create_body(hostname=existing.hostname), format="json"
    )
    assert response.status_code == 400
    assert "hostname" in response.json()["error"]["fields"]


def test_bindings_show_status_but_never_a_secret(viewer_api):
    registry = provisioned(factories.registry())
    registry.database.record_check("ok", "Connected.", latency_ms=3.5)
    registry.database.save()

    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/")

    assert response.status_code == 200
    text = response.content.decode()
    assert not any(secret in text for secret in SECRETS)
    database = response.json()["bindings"]["database"]
    assert (
        database["status"] == "ok"
        and database["latency_ms"] == 3.5
        and database["status_message"] == "Connected."
    )
    assert "password" not in database and "secret_key" not in response.json()["bindings"]["storage"]
    assert "access_key" not in response.json()["bindings"]["storage"]


def test_conditions_are_read_in_one_shape(viewer_api, registry):
    Registry.objects.filter(pk=registry.pk).update(
        conditions=[
            {
                "type": "DependenciesReady",
                "status": "False",
                "reason": "DatabaseUnreachable",
                "message": "The database is unreachable.",
                "whose_move": "provider",
                "since": "2026-01-02T03:04:05+00:00",
            }
        ]
    )
    condition = viewer_api.get(f"/api/v1/registries/{registry.pk}/").json()["conditions"][0]
    assert condition == {
        "type": "DependenciesReady",
        "status": "False",
        "reason": "DatabaseUnreachable",
        "message": "The database is unreachable.",
        "whose_move": "provider",
        "since": "2026-01-02T03:04:05+00:00",
    }


def test_patch_changes_the_spec_and_queues_a_reconciliation(operator_api, operator, registry):
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
    response = operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 3}, format="json")

    assert response.status_code == 200, response.json()
    registry.refresh_from_db()
    assert registry.replicas == 3 and registry.generation == 2
    assert response.json()["generation"] == 2 and response.json()["latest_run"]["status"] == RunStatus.QUEUED
    assert (
        ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED, trigger="changed").count()
        == 1
    )
    event = AuditEvent.objects.get(action="update", registry=registry)
    assert event.via == "api" and event.changes == {"replicas": [None, 3]}


def test_patch_back_to_the_plan_default_with_null(operator_api):
    registry = factories.registry(replicas=3)
    response = operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": None}, format="json")
    assert response.status_code == 200
    assert (
        response.json()["replicas"] is None
        and response.json()["effective"]["replicas"] == registry.plan.replicas
    )


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        ({"harbor_version": "2.15.2"}, "harbor_version", "upgrade"),
        ({"desired_state": "suspended"}, "desired_state", "suspend"),
        ({"name": "renamed"}, "name", "cannot be changed"),
        ({"replicaz": 2}, "replicaz", "no such field"),
        ({"storage_quota_gib": 100000}, "storage_quota_gib", "limit"),
    ],
)
def test_patch_refuses_what_it_cannot_change(operator_api, registry, body, field, hint):
    response = operator_api.patch(f"/api/v1/registries/{registry.pk}/", body, format="json")

    assert response.status_code == 400
    messages = response.json()["error"]["fields"][field]
    assert hint in " ".join(messages).lower()
    registry.refresh_from_db()
    assert registry.generation == 1


def test_patch_of_a_deleted_registry_is_refused(operator_api):
    registry = deleted_registry()
    response = operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 2}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "registry_deleted"


def test_put_is_not_offered(operator_api, registry):
    response = operator_api.put(f"/api/v1/registries/{registry.pk}/", {"replicas": 2}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_list_filters_search_and_orders(viewer_api):
    tenant = factories.tenant()
    small = factories.registry(tenant=tenant, name="alpha", plan=factories.plan("s"), harbor_version="2.13.5")
    big = factories.registry(tenant=tenant, name="beta", harbor_version="2.15.2")
    other = factories.registry(name="gamma")
    Registry.objects.filter(pk=big.pk).update(phase="Degraded")
    deleted = deleted_registry(tenant=tenant, name="omega")

    def ids(query):
        response = viewer_api.get(f"/api/v1/registries/?{query}")
        assert response.status_code == 200, response.json()
        return [r["id"] for r in response.json()["results"]]

    assert ids(f"tenant={tenant.slug}") == [small.pk, big.pk, deleted.pk]
    assert ids(f"tenant={tenant.slug}&ordering=-name") == [deleted.pk, big.pk, small.pk]
    assert ids(f"tenant={tenant.slug}&plan=s") == [small.pk]
    assert ids(f"tenant={tenant.slug}&harbor_version=2.15.2&harbor_version=2.13.5") == [small.pk, big.pk]
    assert ids(f"tenant={tenant.slug}&needs_attention=true") == [big.pk]
    assert ids(f"tenant={tenant.slug}&deleted=false") == [small.pk, big.pk]
    assert ids(f"tenant={tenant.slug}&phase=Degraded&phase=Deleted") == [big.pk, deleted.pk]
    assert ids(f"search=gam {other.tenant.slug}") == [other.pk]
    assert ids(f"cluster={other.cluster.name}") == [other.pk]


def test_pagination_has_a_count_and_a_ceiling(viewer_api):
    tenant = factories.tenant()
    for _ in range(3):
        factories.registry(tenant=tenant)
    page = viewer_api.get(f"/api/v1/registries/?tenant={tenant.slug}&limit=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2 and "offset=2" in page["next"]
    assert viewer_api.get("/api/v1/registries/?limit=200").status_code == 200
    too_many = viewer_api.get("/api/v1/registries/?limit=201")
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]["fields"]


def test_secrets_metadata_never_holds_a_value(admin_api):
    registry = provisioned(factories.registry())
    from provisioning.services.secrets import ensure_registry_secrets

    values = ensure_registry_secrets(registry)
    response = admin_api.get(f"/api/v1/registries/{registry.pk}/secrets/")

    assert response.status_code == 200
    assert {row["name"] for row in response.json()} == set(values)
    assert not any(value in response.content.decode() for value in values.values())


def test_desired_state_is_shown(viewer_api):
    registry = deleted_registry()
    data = viewer_api.get(f"/api/v1/registries/{registry.pk}/").json()
    assert data["desired_state"] == DesiredState.DELETED
    assert data["upgrade_targets"] == [] and data["purge_allowed_at"] is not None
