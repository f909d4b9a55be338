"""Creating and editing registries and tenants: plan defaults shown, each error next to its field, audited."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from provisioning.choices import RunStatus, RunTrigger, Via
from provisioning.models import AuditEvent, Plan, Registry, Tenant
from tests import factories

pytestmark = pytest.mark.django_db


def field_error(body: str, field: str) -> str:
    """The error text rendered next to ``field`` (its ``id_<field>_error`` list), or ''."""
    match = re.search(rf'id="id_{field}_error">(.*?)</ul>', body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def create_data(**overrides):
    data = {
        "tenant": factories.tenant().pk,
        "name": "main",
        "plan": Plan.objects.get(name="m").pk,
        "cluster": factories.cluster().pk,
        "harbor_version": "2.14.4",
        "hostname": "main.customer.example.com",
        "cache_mode": "managed",
        "storage_quota_gib": "",
        "replicas": "",
        "trivy_enabled": "",
        "parallel_request_limit": "",
    }
    data.update(overrides)
    return data


def test_create_form_shows_the_plan_defaults_of_the_chosen_plan(operator_client):
    plan = Plan.objects.get(name="m")
    body = operator_client.get(reverse("provisioning:registry-create")).content.decode()
    assert "Choose a plan to see it" in body
    hints = operator_client.get(reverse("provisioning:plan-defaults"), {"plan": plan.pk}).content.decode()
    assert f"plan default: {plan.storage_quota_gib} GiB" in hints
    assert f"at most {plan.max_storage_quota_gib} GiB" in hints
    assert 'id="id_storage_quota_gib_helptext" hx-swap-oob="true"' in hints
    assert 'aria-describedby="id_storage_quota_gib_helptext"' in body


def test_create_registry_goes_through_the_service(operator_client, operator):
    data = create_data()
    response = operator_client.post(reverse("provisioning:registry-create"), data)
    registry = Registry.objects.get(hostname="main.customer.example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("provisioning:registry-detail", args=[registry.pk])
    assert registry.storage_quota_gib is None and registry.trivy_enabled is None  # follows the plan
    assert registry.database.name and registry.cache.mode == "managed" and registry.components.count() >= 5
    run = registry.runs.get()
    assert run.trigger == RunTrigger.CREATED and run.status == RunStatus.QUEUED
    event = AuditEvent.objects.get(registry=registry, action="create")
    assert event.actor == operator and event.via == Via.UI


def test_create_errors_are_explained_next_to_their_fields(operator_client):
    taken = factories.registry()
    data = create_data(
        name="Not A Name",
        hostname=taken.hostname,
        storage_quota_gib="5000",
        replicas="9",
        harbor_version="1.0.0",
    )
    response = operator_client.post(reverse("provisioning:registry-create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a valid name" in field_error(body, "name")
    assert "Select a valid choice" in field_error(body, "harbor_version")
    assert 'aria-invalid="true"' in body and "things need fixing" in body
    assert "5000 GiB is above the Medium plan's limit of 1000 GiB" in field_error(body, "storage_quota_gib")
    assert "9 replicas is above" in field_error(body, "replicas")
    assert "already" in field_error(body, "hostname")
    assert 'aria-describedby="id_hostname_helptext id_hostname_error"' in body
    assert not Registry.objects.filter(name="main").exists()


def test_edit_changes_only_what_changed_and_queues_a_reconcile(operator_client):
    registry = factories.registry()
    url = reverse("provisioning:registry-edit", args=[registry.pk])
    body = operator_client.get(url).content.decode()
    assert f'value="{registry.hostname}"' in body
    assert "plan default: 600 GiB" in body
    data = {
        "plan": registry.plan_id,
        "hostname": registry.hostname,
        "storage_quota_gib": "800",
        "trivy_enabled": "false",
    }
    response = operator_client.post(url, data)
    assert response.status_code == 302
    registry.refresh_from_db()
    assert registry.storage_quota_gib == 800 and registry.trivy_enabled is False and registry.generation == 2
    event = AuditEvent.objects.get(registry=registry, action="update")
    assert event.changes == {"storage_quota_gib": [None, 800], "trivy_enabled": [None, False]}
    assert registry.runs.filter(status=RunStatus.QUEUED).count() == 1  # the queued creation run absorbs it


def test_edit_refused_by_the_model_keeps_the_registry(operator_client):
    registry = factories.registry()
    url = reverse("provisioning:registry-edit", args=[registry.pk])
    response = operator_client.post(url, {"plan": registry.plan_id, "hostname": "bad host", "replicas": "50"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a valid host name" in field_error(body, "hostname")
    registry.refresh_from_db()
    assert registry.generation == 1


def test_create_tenant_audited_and_its_errors_explained(operator_client, operator):
    response = operator_client.post(reverse("provisioning:tenant-create"), {"slug": "Bad Slug", "name": ""})
    assert response.status_code == 400
    body = response.content.decode()
    assert "not a valid name" in field_error(body, "slug")
    assert "This field is required" in field_error(body, "name")
    response = operator_client.post(
        reverse("provisioning:tenant-create"),
        {"slug": "acme", "name": "Acme", "contact_email": "ops@acme.test"},
    )
    tenant = Tenant.objects.get(slug="acme")
    assert response["Location"] == reverse("provisioning:tenant-detail", args=[tenant.pk])
    assert AuditEvent.objects.filter(
        target_type="tenant", target_id=str(tenant.pk), action="create", actor=operator
    )
    response = operator_client.post(
        reverse("provisioning:tenant-edit", args=[tenant.pk]), {"slug": "changed", "name": "Acme Corp"}
    )
    tenant.refresh_from_db()
    assert tenant.slug == "acme" and tenant.name == "Acme Corp"
    event = AuditEvent.objects.get(target_type="tenant", action="update")
    assert event.changes == {"name": ["Acme", "Acme Corp"], "contact_email": ["ops@acme.test", ""]}
