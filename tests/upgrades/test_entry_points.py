"""Every way to upgrade a registry — the registry's API action, its page's Upgrade action, a bulk upgrade — starts
the step-by-step upgrade (pre-flight, migration Job, components in order), never a roll of everything at once.

The one exception is a registry never deployed: nothing ran on its database, so its version simply changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from provisioning.choices import Phase, RunStatus
from provisioning.models import AuditEvent, ReconcileRun, Registry, StepStatus, Upgrade, UpgradeStatus
from provisioning.reconcile import reconcile
from provisioning.rendering.upgrade import MIGRATION, ROLL_ORDER
from provisioning.services import bulk
from provisioning.upgrades import operation
from tests import factories
from tests.api.conftest import deleted_registry, token_client

pytestmark = pytest.mark.django_db

FROM, TO = "2.14.4", "2.15.2"
STEPS = ["preflight", MIGRATION, *ROLL_ORDER]


@pytest.fixture
def make_ready(make_emulated_cluster):
    cluster = make_emulated_cluster(backup_marker="PITR on the shared PostgreSQL, 7 days")
    tenant = factories.tenant()

    def make(**fields: Any) -> Registry:
        registry = factories.registry(
            cluster=cluster, tenant=tenant, harbor_version=FROM, trivy_enabled=True, **fields
        )
        assert reconcile(registry.pk).phase == Phase.READY
        ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
        registry.refresh_from_db()
        return registry

    return make


def started(registry: Registry, upgrade_id: int) -> Upgrade:
    """The registry's one upgrade: started (pre-flight passed), the migration next, nothing rolled at once."""
    upgrade = Upgrade.objects.get(registry=registry)
    assert upgrade.pk == upgrade_id
    assert upgrade.status == UpgradeStatus.RUNNING, upgrade.reason
    assert [step["name"] for step in upgrade.steps] == STEPS
    assert upgrade.steps[0]["status"] == StepStatus.DONE and upgrade.step == MIGRATION
    assert (upgrade.from_version, upgrade.to_version) == (FROM, TO)
    assert not ReconcileRun.objects.filter(registry=registry, operation="upgrade").exists()
    registry.refresh_from_db()
    assert registry.harbor_version == TO and registry.deployed_version == FROM
    return upgrade


def test_the_registry_api_upgrade_starts_the_step_by_step_upgrade(make_ready, operator):
    registry = make_ready()
    answer = token_client(operator).post(
        f"/api/v1/registries/{registry.pk}/upgrade/", {"target_version": TO}, format="json"
    )
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["status"] == "running" and body["step"] == MIGRATION
    assert answer["Location"] == body["url"] and body["url"].endswith(f"/api/v1/upgrades/{body['id']}/")
    upgrade = started(registry, body["id"])
    event = AuditEvent.objects.get(action="upgrade", registry=registry)
    assert event.via == "api" and event.changes["upgrade"] == upgrade.pk

    for _ in range(30):  # what the drive_upgrade task does, round after round
        current = operation.advance(upgrade.pk)
        assert current is not None
        upgrade = current
        if not upgrade.is_open:
            break
    assert upgrade.status == UpgradeStatus.SUCCEEDED, upgrade.reason
    assert all(step["status"] == StepStatus.DONE for step in upgrade.steps)
    assert upgrade.migration_started_at is not None


def test_the_registry_page_upgrade_action_starts_it_and_leads_to_its_progress(make_ready, operator):
    registry = make_ready()
    client = Client()
    client.force_login(operator)
    url = f"/registries/{registry.pk}/actions/upgrade/"
    confirm = client.get(url).content.decode()
    assert "pre-flight" in confirm and "migration Job" in confirm and "one rollout" not in confirm

    answer = client.post(url, {"target_version": TO})
    assert answer.status_code == 302 and answer["Location"] == f"/registries/{registry.pk}/upgrade/"
    upgrade = started(registry, Upgrade.objects.get(registry=registry).pk)
    page = client.get(answer["Location"]).content.decode()
    assert f"Upgrade to Harbor {TO}: Running" in page
    assert AuditEvent.objects.get(action="upgrade", registry=registry).changes["upgrade"] == upgrade.pk


def test_a_failed_preflight_through_the_registry_api_is_the_halted_upgrade_and_changes_nothing(
    make_ready, operator
):
    registry = make_ready()
    registry.cluster.backup_marker = ""
    registry.cluster.save(update_fields=["backup_marker"])
    generation = registry.generation
    answer = token_client(operator).post(
        f"/api/v1/registries/{registry.pk}/upgrade/", {"target_version": TO}, format="json"
    )
    assert answer.status_code == 202, answer.json()
    body = answer.json()
    assert body["status"] == "halted" and body["step"] == "preflight"
    assert "backup marker" in body["reason"]
    registry.refresh_from_db()
    assert registry.harbor_version == FROM and registry.generation == generation
    assert not AuditEvent.objects.filter(action="upgrade", registry=registry).exists()
    assert AuditEvent.objects.get(action="upgrade-halted", registry=registry).changes["upgrade"] == body["id"]


def bulk_upgrade(operator: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """A bulk upgrade, then what the worker does with it (start each pending upgrade): its summary."""
    api = token_client(operator)
    answer = api.post(
        "/api/v1/registries/bulk/", {"action": "upgrade", "target_version": TO, **payload}, format="json"
    )
    assert answer.status_code == 202, answer.json()
    pending = [item["registry"] for item in answer.json()["upgrades"]]
    bulk.start_bulk_upgrades(answer.json()["id"], pending)
    return dict(api.get(answer.json()["url"]).json())


def test_a_bulk_upgrade_gives_each_registry_its_own_step_by_step_upgrade(make_ready, operator):
    first, second = make_ready(), make_ready()
    upgrading = make_ready()
    Upgrade.objects.create(registry=upgrading, from_version=FROM, to_version=TO, step=MIGRATION)
    data = bulk_upgrade(operator, {"ids": [first.pk, second.pk, upgrading.pk]})
    by_registry = {item["registry"]: item for item in data["upgrades"]}
    assert sorted(by_registry) == sorted([first.pk, second.pk])
    assert data["runs"] == []
    for registry in (first, second):
        item = by_registry[registry.pk]
        assert item["status"] == "running"
        started(registry, item["upgrade"])
    assert [(r["registry"], r["code"]) for r in data["refusals"]] == [(upgrading.pk, "upgrade_under_way")]
    assert data["counts"]["accepted"] == 2 and data["counts"]["refused"] == 1
    assert Registry.objects.get(pk=upgrading.pk).harbor_version == FROM


def test_a_registry_never_deployed_changes_version_in_place(operator):
    """Nothing of Harbor ever ran on its database (it never rolled out): no schema to migrate, no order to keep."""
    registry = factories.registry(harbor_version=FROM)
    assert registry.deployed_version == "" and registry.phase != Phase.READY
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
    answer = token_client(operator).post(
        f"/api/v1/registries/{registry.pk}/upgrade/", {"target_version": TO}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    run = answer.json()
    assert run["operation"] == "upgrade" and answer["Location"].endswith(f"/api/v1/runs/{run['id']}/")
    assert not Upgrade.objects.filter(registry=registry).exists()
    assert Registry.objects.get(pk=registry.pk).harbor_version == TO
    assert AuditEvent.objects.get(action="upgrade", registry=registry).changes["harbor_version"] == [FROM, TO]


def test_a_bulk_upgrade_changes_a_registry_never_deployed_in_place(make_ready, operator):
    deployed = make_ready()
    fresh = factories.registry(harbor_version=FROM, tenant=deployed.tenant)
    ReconcileRun.objects.filter(registry=fresh).update(status=RunStatus.SUCCEEDED)
    data = bulk_upgrade(operator, {"filters": {"tenant": deployed.tenant.slug}})
    assert [item["registry"] for item in data["upgrades"]] == [deployed.pk]
    assert [item["registry"] for item in data["runs"]] == [fresh.pk] and data["refusals"] == []
    started(deployed, data["upgrades"][0]["upgrade"])
    assert not Upgrade.objects.filter(registry=fresh).exists()
    assert Registry.objects.get(pk=fresh.pk).harbor_version == TO


def test_a_bulk_upgrade_lists_a_failed_preflight_as_a_refusal_with_its_halted_upgrade(make_ready, operator):
    registry = make_ready()
    registry.cluster.backup_marker = ""
    registry.cluster.save(update_fields=["backup_marker"])
    data = bulk_upgrade(operator, {"ids": [registry.pk]})
    assert data["upgrades"] == [] and data["runs"] == []
    [refusal] = data["refusals"]
    assert refusal["code"] == "preflight_failed" and "backup marker" in refusal["reason"]
    assert Upgrade.objects.get(pk=refusal["upgrade"]).status == UpgradeStatus.HALTED
    assert Registry.objects.get(pk=registry.pk).harbor_version == FROM


def test_the_step_by_step_page_refuses_a_deleted_registry_and_changes_nothing(operator):
    registry = deleted_registry()
    client = Client()
    client.force_login(operator)
    answer = client.post(f"/registries/{registry.pk}/upgrade/", {"target_version": TO, "budget_seconds": 600})
    assert answer.status_code == 409
    assert "deleted" in answer.content.decode()
    assert not Upgrade.objects.filter(registry=registry).exists()
    assert Registry.objects.get(pk=registry.pk).harbor_version == FROM


def test_the_registry_page_upgrade_of_a_registry_never_deployed_says_so_and_changes_in_place(operator):
    registry = factories.registry(harbor_version=FROM)
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
    client = Client()
    client.force_login(operator)
    url = f"/registries/{registry.pk}/actions/upgrade/"
    assert "was never deployed" in client.get(url).content.decode()
    answer = client.post(url, {"target_version": TO})
    run = ReconcileRun.objects.get(registry=registry, operation="upgrade")
    assert (
        answer.status_code == 302
        and answer["Location"] == f"/registries/{registry.pk}/?run={run.pk}#progress"
    )
    assert not Upgrade.objects.filter(registry=registry).exists()
    assert Registry.objects.get(pk=registry.pk).harbor_version == TO
