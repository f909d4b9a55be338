"""Tenants, plans and clusters: their rules as the API applies them, and secrets never shown back."""

from __future__ import annotations

import pytest
import yaml
from django.utils import timezone

from provisioning.audit import MASK
from provisioning.choices import Phase
from provisioning.models import AuditEvent, Cluster, Plan, Registry, Tenant
from tests import factories
from tests.api.conftest import deleted_registry

pytestmark = pytest.mark.django_db


def test_a_tenant_with_registries_cannot_be_deleted_until_they_are_purged(operator_api):
    tenant = factories.tenant()
    registry = deleted_registry(tenant=tenant)

    refused = operator_api.delete(f"/api/v1/tenants/{tenant.pk}/")

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "tenant_has_registries" and registry.name in error["message"]
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.PURGED, purged_at=timezone.now())
    assert operator_api.delete(f"/api/v1/tenants/{tenant.pk}/").status_code == 204
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    event = AuditEvent.objects.get(action="delete", target_type="tenant", target_id=str(tenant.pk))
    assert event.via == "api"


def test_a_tenant_slug_cannot_change(operator_api):
    tenant = factories.tenant()
    response = operator_api.patch(f"/api/v1/tenants/{tenant.pk}/", {"slug": "renamed"}, format="json")
    assert response.status_code == 400 and "slug" in response.json()["error"]["fields"]


def test_tenant_changes_are_audited_as_a_diff(operator_api):
    tenant = factories.tenant(name="Before")
    response = operator_api.patch(f"/api/v1/tenants/{tenant.pk}/", {"name": "After"}, format="json")
    assert response.status_code == 200 and response.json()["name"] == "After"
    event = AuditEvent.objects.get(action="update", target_type="tenant")
    assert event.changes == {"name": ["Before", "After"]}


def test_tenant_lists_count_registries_and_filter(viewer_api):
    tenant = factories.tenant()
    factories.registry(tenant=tenant)
    factories.registry(tenant=tenant)
    empty = factories.tenant()
    data = viewer_api.get(f"/api/v1/tenants/?slug={tenant.slug}").json()
    assert data["count"] == 1 and data["results"][0]["registry_count"] == 2
    without = [
        t["id"] for t in viewer_api.get("/api/v1/tenants/?has_registries=false&limit=200").json()["results"]
    ]
    assert empty.pk in without and tenant.pk not in without


def test_a_plan_in_use_cannot_be_deleted(admin_api):
    registry = factories.registry()
    response = admin_api.delete(f"/api/v1/plans/{registry.plan_id}/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Plan.objects.filter(pk=registry.plan_id).exists()


def test_plan_rules_of_the_model_apply(admin_api):
    plan = Plan.objects.create(name=f"r{factories.RUN}", display_name="R", replicas=1, max_replicas=2)
    response = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"replicas": 3}, format="json")
    assert response.status_code == 400 and "replicas" in response.json()["error"]["fields"]
    ok = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"replicas": 2, "cpu_limit": "1500m"}, format="json")
    assert ok.status_code == 200 and ok.json()["cpu_limit"] == "1500m"


def emulator_kubeconfig(url: str) -> str:
    return yaml.safe_dump(
        {
            "clusters": [{"name": "c", "cluster": {"server": url}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "ctx",
        }
    )


def test_cluster_credentials_are_write_only(admin_api, kube_emulator):
    body = {
        "name": f"c{factories.RUN}-wo",
        "api_url": kube_emulator.url,
        "token": "very-secret-token",
        "kubeconfig": emulator_kubeconfig(kube_emulator.url),
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "harbor", "effect": "NoSchedule"}],
        "node_selector": {"node-role.kubernetes.io/harbor": ""},
        "egress_cidrs": ["10.0.0.0/8"],
    }
    created = admin_api.post("/api/v1/clusters/", body, format="json")

    assert created.status_code == 201, created.json()
    data = created.json()
    assert "very-secret-token" not in created.content.decode()
    assert not {"token", "kubeconfig", "database_admin_url", "s3_secret_key", "s3_access_key"} & set(data)
    assert data["credentials"] == {
        "token": True,
        "kubeconfig": True,
        "database_admin_url": False,
        "s3_access_key": False,
        "s3_secret_key": False,
    }
    url = data["url"]
    assert (
        admin_api.patch(url, {"display_name": "Paris"}, format="json").json()["credentials"]["token"] is True
    )
    assert Cluster.objects.get(pk=data["id"]).token == "very-secret-token"
    cleared = admin_api.patch(url, {"kubeconfig": ""}, format="json").json()
    assert cleared["credentials"]["kubeconfig"] is False
    event = AuditEvent.objects.filter(target_type="cluster", action="create").get()
    assert event.changes["token"] == MASK


def test_a_bad_database_admin_url_is_a_field_error(admin_api, kube_emulator):
    body = {
        "name": f"c{factories.RUN}-db",
        "api_url": kube_emulator.url,
        "database_admin_url": "mysql://x",
    }
    response = admin_api.post("/api/v1/clusters/", body, format="json")
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "database_admin_url" in fields
    assert not Cluster.objects.filter(name=body["name"]).exists()


def test_a_cluster_with_registries_cannot_be_deleted(admin_api):
    registry = factories.registry()
    response = admin_api.delete(f"/api/v1/clusters/{registry.cluster_id}/")
    assert response.status_code == 409
    assert Cluster.objects.filter(pk=registry.cluster_id).exists()
