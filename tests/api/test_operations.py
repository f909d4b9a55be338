"""Operations on a registry: 202 with the run to poll (an upgrade: the step-by-step upgrade to follow), and each
refusal with its reason and stable code."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from django.utils import timezone

from provisioning.choices import DesiredState, Phase, RunStatus
from provisioning.models import AuditEvent, DatabaseBinding, ReconcileRun, Registry, RegistrySecret
from provisioning.rendering import REDACTED
from tests import factories
from tests.api.conftest import (
    deleted_registry,
    deployed_registry,
    provisioned,
    provisioned_registry,
    suspended_registry,
)

pytestmark = pytest.mark.django_db

SECRETS = ("db-password-for-tests", "cache-password-for-tests", "s3-secret-for-tests")


def post(client, registry, action, body=None):
    return client.post(f"/api/v1/registries/{registry.pk}/{action}/", body, format="json")


def settle(registry):
    """Mark the registry's queued runs as done, so that the next operation queues a run of its own."""
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)


@pytest.mark.parametrize(
    ("action", "body", "make", "operation", "check"),
    [
        ("reconcile", None, factories.registry, "reconcile", lambda r: r.generation == 1),
        ("suspend", None, factories.registry, "suspend", lambda r: r.desired_state == DesiredState.SUSPENDED),
        ("resume", None, suspended_registry, "resume", lambda r: r.desired_state == DesiredState.RUNNING),
        ("rotate-credentials", {"kinds": ["database"]}, provisioned_registry, "rotate_credentials", None),
        ("rotate-credentials", {}, provisioned_registry, "rotate_credentials", None),
        ("delete", None, factories.registry, "delete", lambda r: r.desired_state == DesiredState.DELETED),
        ("purge", None, deleted_registry, "purge", None),
    ],
)
def test_operation_answers_202_with_the_run_to_poll(
    admin_api, admin_user, action, body, make, operation, check
):
    registry = make()
    settle(registry)

    response = post(admin_api, registry, action, body)

    assert response.status_code == 202, response.json()
    run = response.json()
    assert response["Location"] == run["url"] and run["url"].endswith(f"/api/v1/runs/{run['id']}/")
    assert run["registry"] == registry.pk and run["operation"] == operation
    assert run["status"] == RunStatus.QUEUED and run["is_open"] is True
    assert run["requested_by"] == admin_user.username
    polled = admin_api.get(run["url"])
    assert polled.status_code == 200 and polled.json()["id"] == run["id"]
    registry.refresh_from_db()
    if check:
        assert check(registry)
    assert AuditEvent.objects.filter(registry=registry, via="api", actor=admin_user).exists()


@pytest.mark.parametrize(("current", "target"), [("2.14.4", "2.15.2"), ("2.14.0", "2.14.4")])
def test_upgrade_of_a_deployed_registry_answers_202_with_the_step_by_step_upgrade(
    admin_api, admin_user, current, target
):
    registry = deployed_registry(harbor_version=current)
    settle(registry)

    response = post(admin_api, registry, "upgrade", {"target_version": target})

    assert response.status_code == 202, response.json()
    upgrade = response.json()
    assert response["Location"] == upgrade["url"] and upgrade["url"].endswith(
        f"/api/v1/upgrades/{upgrade['id']}/"
    )
    assert upgrade["registry"] == registry.pk and upgrade["to_version"] == target
    # nothing of it was ever checked: the pre-flight halts it, and nothing else changes
    assert upgrade["status"] == "halted" and upgrade["step"] == "preflight"
    assert admin_api.get(upgrade["url"]).json()["id"] == upgrade["id"]
    assert Registry.objects.get(pk=registry.pk).harbor_version == current
    assert not ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).exists()
    # the attempt is audited as what happened: an upgrade halted at its pre-flight, by whoever asked
    assert AuditEvent.objects.filter(
        registry=registry, action="upgrade-halted", via="api", actor=admin_user
    ).exists()


@pytest.mark.parametrize(("current", "target"), [("2.14.4", "2.15.2"), ("2.14.0", "2.14.4")])
def test_upgrade_of_a_registry_never_deployed_answers_200_with_the_run(
    admin_api, admin_user, current, target
):
    registry = factories.registry(harbor_version=current)
    settle(registry)

    response = post(admin_api, registry, "upgrade", {"target_version": target})

    assert response.status_code == 200, response.json()
    run = response.json()
    assert response["Location"] == run["url"] and run["url"].endswith(f"/api/v1/runs/{run['id']}/")
    assert run["operation"] == "upgrade" and run["status"] == RunStatus.QUEUED
    assert Registry.objects.get(pk=registry.pk).harbor_version == target
    assert AuditEvent.objects.filter(
        registry=registry, action="upgrade", via="api", actor=admin_user
    ).exists()


def test_delete_method_is_the_soft_delete(operator_api, registry):
    settle(registry)
    response = operator_api.delete(f"/api/v1/registries/{registry.pk}/")
    assert response.status_code == 202 and response.json()["operation"] == "delete"
    registry.refresh_from_db()
    assert registry.desired_state == DesiredState.DELETED and registry.deleted_at is not None
    assert Registry.objects.filter(pk=registry.pk).exists()


def test_reconcile_reuses_a_queued_run(operator_api, registry):
    first = post(operator_api, registry, "reconcile").json()
    second = post(operator_api, registry, "reconcile").json()
    assert first["id"] == second["id"]
    assert ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).count() == 1


def purged_registry():
    registry = deleted_registry()
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.PURGED, purged_at=timezone.now())
    return Registry.objects.get(pk=registry.pk)


def rotating_registry():
    registry = provisioned_registry()
    DatabaseBinding.objects.filter(registry=registry).update(rotation_requested_at=timezone.now())
    return registry


def deleting_registry():
    registry = factories.registry()
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETING, deleted_at=timezone.now()
    )
    return registry


REFUSALS: list[tuple[Any, ...]] = [
    ("reconcile", None, purged_registry, 409, "registry_purged", None),
    ("suspend", None, suspended_registry, 409, "already_suspended", None),
    ("suspend", None, deleted_registry, 409, "registry_deleted", None),
    ("resume", None, factories.registry, 409, "not_suspended", None),
    ("resume", None, deleted_registry, 409, "registry_deleted", None),
    (
        "upgrade",
        {"target_version": "2.14.0"},
        factories.registry,
        400,
        "upgrade_not_allowed",
        "target_version",
    ),
    (
        "upgrade",
        {"target_version": "2.14.4"},
        factories.registry,
        400,
        "upgrade_not_allowed",
        "target_version",
    ),
    (
        "upgrade",
        {"target_version": "2.15.2"},
        lambda: factories.registry(harbor_version="2.13.5"),
        200,
        None,
        None,
    ),
    (
        "upgrade",
        {"target_version": "2.14.0"},
        deployed_registry,
        400,
        "upgrade_not_allowed",
        "target_version",
    ),
    ("upgrade", {"target_version": "9.9.9"}, factories.registry, 400, "invalid", "target_version"),
    ("upgrade", {}, factories.registry, 400, "invalid", "target_version"),
    ("upgrade", {"target_version": "2.15.2"}, deleted_registry, 409, "registry_deleted", None),
    ("rotate-credentials", {"kinds": ["database"]}, factories.registry, 409, "not_rotatable", "kinds"),
    ("rotate-credentials", {"kinds": ["ldap"]}, provisioned_registry, 400, "invalid", "kinds"),
    ("rotate-credentials", {"kinds": []}, provisioned_registry, 400, "invalid", "kinds"),
    ("rotate-credentials", {"kinds": ["cache"]}, rotating_registry, 409, "rotation_in_progress", None),
    ("rotate-credentials", None, lambda: suspended_registry(), 409, "registry_suspended", None),
    ("delete", None, deleted_registry, 409, "registry_deleted", None),
    ("purge", None, factories.registry, 409, "not_deleted", None),
    ("purge", None, deleting_registry, 409, "not_deleted", None),
    ("purge", None, lambda: deleted_registry(days_ago=1), 409, "retention_period", None),
    ("purge", None, purged_registry, 409, "already_purged", None),
]


@pytest.mark.parametrize(("action", "body", "make", "status", "code", "field"), REFUSALS)
def test_operation_refusals_say_why(admin_api, action, body, make, status, code, field):
    registry = make()
    settle(registry)
    events = AuditEvent.objects.count()

    response = post(admin_api, registry, action, body)

    assert response.status_code == status, response.json()
    if status < 300:
        return
    error = response.json()["error"]
    assert error["code"] == code and len(error["message"]) > 20
    if field:
        assert field in error["fields"]
    assert AuditEvent.objects.count() == events
    assert not ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).exists()


def test_upgrade_refusal_gives_the_catalogue_reason(operator_api):
    registry = factories.registry(harbor_version="2.13.5")
    Registry.objects.filter(pk=registry.pk).update(harbor_version="2.13.0")
    response = post(operator_api, registry, "upgrade", {"target_version": "2.13.0"})
    assert response.status_code == 400
    assert "already runs Harbor 2.13.0" in response.json()["error"]["message"]


def test_purge_is_allowed_exactly_after_the_retention_period(admin_api, settings):
    settings.PURGE_RETENTION_DAYS = 30
    registry = deleted_registry(days_ago=29)
    assert post(admin_api, registry, "purge").json()["error"]["code"] == "retention_period"
    Registry.objects.filter(pk=registry.pk).update(deleted_at=timezone.now() - timedelta(days=30, minutes=1))
    assert post(admin_api, registry, "purge").status_code == 202


@pytest.mark.parametrize("body", [None, {}, {"force": False}, {"force": True}])
def test_purge_records_whether_it_was_forced(admin_api, admin_user, body):
    registry = deleted_registry()

    response = post(admin_api, registry, "purge", body)

    assert response.status_code == 202, response.json()
    event = AuditEvent.objects.get(registry=registry, action="purge")
    assert event.actor == admin_user and event.via == "api"
    assert event.changes == {"force": bool(body and body.get("force"))}


@pytest.mark.parametrize("body", [{"force": "yes"}, {"force": None}, {"forced": True}])
def test_purge_refuses_a_force_that_is_not_a_boolean(admin_api, body):
    registry = deleted_registry()

    response = post(admin_api, registry, "purge", body)

    assert response.status_code == 400
    assert not ReconcileRun.objects.filter(registry=registry, operation="purge").exists()


def test_only_an_admin_may_force_a_purge(operator_api):
    registry = deleted_registry()
    assert post(operator_api, registry, "purge", {"force": True}).status_code == 403
    assert not AuditEvent.objects.filter(registry=registry, action="purge").exists()


def test_unknown_registry_is_404_in_the_error_shape(operator_api):
    response = operator_api.post("/api/v1/registries/987654321/suspend/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_manifests_are_yaml_with_secrets_redacted(viewer_api):
    registry = provisioned_registry()

    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/manifests/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/yaml")
    text = response.content.decode()
    documents = [doc for doc in yaml.safe_load_all(text) if doc]
    kinds = {doc["kind"] for doc in documents}
    assert {"Namespace", "Deployment", "Secret", "Service", "Ingress"} <= kinds
    assert all(
        doc["metadata"]["namespace"] == registry.namespace for doc in documents if doc["kind"] != "Namespace"
    )
    assert not any(secret in text for secret in SECRETS)
    for value in registry.secrets.values_list("value", flat=True):
        assert value not in text


def test_helm_values_are_json_without_secrets(viewer_api):
    registry = provisioned_registry()
    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/helm-values/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    values = response.json()
    assert values["externalURL"] == registry.external_url
    assert not any(secret in response.content.decode() for secret in SECRETS)


@pytest.mark.parametrize("export", ["manifests", "helm-values"])
def test_exporting_a_registry_without_generated_secrets_writes_nothing(viewer_api, export):
    registry = provisioned_registry()
    RegistrySecret.objects.filter(registry=registry).delete()

    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/{export}/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert not RegistrySecret.objects.filter(registry=registry).exists(), "a GET generated secrets"
    assert REDACTED in response.content.decode()


@pytest.mark.parametrize("export", ["manifests", "helm-values"])
def test_exports_of_an_unprovisioned_registry_say_why(viewer_api, registry, export):
    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/{export}/")
    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_renderable"


def test_a_second_rotation_waits_for_the_first(operator_api):
    registry = provisioned(factories.registry())
    assert post(operator_api, registry, "rotate-credentials", {"kinds": ["database"]}).status_code == 202
    assert post(operator_api, registry, "rotate-credentials", {"kinds": ["database"]}).status_code == 409
