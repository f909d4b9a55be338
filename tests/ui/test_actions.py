"""Operations from a registry's page: confirmation, the service call, the refusal in words, the run to watch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.choices import DesiredState, Phase, RunStatus
from provisioning.models import AuditEvent, Registry
from tests import factories

pytestmark = pytest.mark.django_db


def action_url(registry, name):
    return reverse("provisioning:registry-action", args=[registry.pk, name])


def settled(registry):
    """As if the creation's run had finished: new requests queue new runs."""
    registry.runs.update(status=RunStatus.SUCCEEDED, finished_at=timezone.now())
    return registry


def test_reconcile_now_confirms_then_queues_a_run_to_watch(operator_client, operator):
    registry = settled(factories.registry())
    confirm = operator_client.get(action_url(registry, "reconcile"))
    assert confirm.status_code == 200
    assert b"Compares every object of the stack" in confirm.content
    response = operator_client.post(action_url(registry, "reconcile"))
    run = registry.runs.get(status=RunStatus.QUEUED)
    assert (
        response["Location"]
        == reverse("provisioning:registry-detail", args=[registry.pk]) + f"?run={run.pk}#progress"
    )
    assert run.operation == "reconcile" and run.requested_by == operator
    assert AuditEvent.objects.filter(registry=registry, action="reconcile", actor=operator).exists()
    body = operator_client.get(response["Location"]).content.decode()
    assert f'id="run-{run.pk}"' in body and 'hx-trigger="every 1500ms"' in body


def test_upgrade_offers_only_allowed_targets(operator_client):
    registry = settled(factories.registry(harbor_version="2.13.1"))
    body = operator_client.get(action_url(registry, "upgrade")).content.decode()
    offered = {v for v in ("2.13.5", "2.14.4", "2.15.2", "2.13.0", "2.13.1") if f'value="{v}"' in body}
    assert offered == {"2.13.5", "2.14.4", "2.15.2"}
    response = operator_client.post(action_url(registry, "upgrade"), {"target_version": "2.13.0"})
    assert response.status_code == 400
    assert b"Select a valid choice" in response.content
    response = operator_client.post(action_url(registry, "upgrade"), {"target_version": "2.15.2"})
    assert response.status_code == 302
    registry.refresh_from_db()
    assert registry.harbor_version == "2.15.2" and registry.generation == 2


def test_suspend_then_resume_and_refusal_shown_in_words(operator_client):
    registry = settled(factories.registry())
    operator_client.post(action_url(registry, "suspend"))
    registry.refresh_from_db()
    assert registry.desired_state == DesiredState.SUSPENDED
    response = operator_client.post(action_url(registry, "suspend"))
    assert response.status_code == 409
    assert b"Refused:</strong>" in response.content and b"is already suspended." in response.content
    operator_client.post(action_url(registry, "resume"))
    registry.refresh_from_db()
    assert registry.desired_state == DesiredState.RUNNING


def test_delete_needs_the_registry_name_typed(operator_client):
    registry = settled(factories.registry())
    response = operator_client.post(action_url(registry, "delete"), {"confirm_name": "something-else"})
    assert response.status_code == 400
    assert f"type {registry.name} to confirm".encode() in response.content
    assert Registry.objects.get(pk=registry.pk).desired_state == DesiredState.RUNNING
    response = operator_client.post(action_url(registry, "delete"), {"confirm_name": registry.name})
    assert response.status_code == 302
    registry.refresh_from_db()
    assert registry.desired_state == DesiredState.DELETED and registry.deleted_at is not None


def test_purge_is_for_admins_after_retention(admin_client_, settings):
    registry = settled(factories.registry())
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETED, deleted_at=timezone.now() - timedelta(days=1)
    )
    settings.PURGE_RETENTION_DAYS = 30
    response = admin_client_.post(action_url(registry, "purge"), {"confirm_name": registry.name})
    assert response.status_code == 409
    assert b"is retained until" in response.content
    settings.PURGE_RETENTION_DAYS = 0
    response = admin_client_.post(
        action_url(registry, "purge"), {"confirm_name": registry.name, "force": "on"}
    )
    assert response.status_code == 302
    assert registry.runs.filter(operation="purge").exists()
    event = AuditEvent.objects.get(action="purge", registry=registry)
    assert event.changes == {"force": True}, "a forced purge is audited as forced"


def test_rotation_of_credentials_the_console_cannot_rotate_is_explained(operator_client):
    registry = settled(factories.registry())
    body = operator_client.get(action_url(registry, "rotate")).content.decode()
    assert "PostgreSQL password — not possible: its database is not provisioned yet" in body
    response = operator_client.post(action_url(registry, "rotate"), {"kinds": ["database"]})
    assert response.status_code == 409
    assert b"database cannot be rotated by the console" in response.content


def test_rotation_queues_a_run_once_the_binding_is_provisioned(operator_client):
    registry = settled(factories.registry())
    registry.database.provisioned_at = timezone.now()
    registry.database.save()
    response = operator_client.post(action_url(registry, "rotate"), {"kinds": ["database"]})
    assert response.status_code == 302
    registry.database.refresh_from_db()
    assert registry.database.rotation_requested_at is not None
    assert registry.runs.filter(operation="rotate_credentials", status=RunStatus.QUEUED).exists()


def test_unknown_operation_is_404(operator_client):
    registry = factories.registry()
    assert operator_client.get(action_url(registry, "explode")).status_code == 404


def test_operations_offered_follow_the_state(operator_client):
    registry = settled(factories.registry())
    detail = reverse("provisioning:registry-detail", args=[registry.pk])
    body = operator_client.get(detail).content.decode()
    assert action_url(registry, "suspend") in body and action_url(registry, "resume") not in body
    Registry.objects.filter(pk=registry.pk).update(desired_state=DesiredState.SUSPENDED)
    body = operator_client.get(detail).content.decode()
    assert action_url(registry, "resume") in body and action_url(registry, "suspend") not in body
