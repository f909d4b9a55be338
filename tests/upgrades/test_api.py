"""The upgrades and waves API: roles, refusals that change nothing, audit, constant queries per wave."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning.choices import Phase
from provisioning.models import AuditEvent, Registry, StepStatus, Upgrade, UpgradeStatus, Wave, WaveStatus
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


def test_a_viewer_reads_upgrades_but_cannot_start_one(viewer_api, registry):
    answer = viewer_api.post(
        "/api/v1/upgrades/", {"registry": registry.pk, "target_version": "2.15.2"}, format="json"
    )
    assert answer.status_code == 403
    assert not Upgrade.objects.exists()
    assert viewer_api.get("/api/v1/upgrades/").status_code == 200


def test_a_failed_preflight_is_recorded_halted_and_changes_nothing(operator_api, registry):
    answer = operator_api.post(
        "/api/v1/upgrades/", {"registry": registry.pk, "target_version": "2.15.2"}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "halted" and body["step"] == "preflight"
    assert "not Ready" in body["reason"] and "no database backup marker" in body["reason"]
    checks = {c["name"]: c for c in body["steps"][0]["checks"]}
    assert checks["target"]["ok"] is True and checks["ready"]["ok"] is False
    registry.refresh_from_db()
    assert registry.harbor_version == "2.14.4" and registry.generation == 1
    assert AuditEvent.objects.filter(action="upgrade-halted", registry=registry, actor__isnull=False).exists()


def test_rollback_after_the_migration_ran_is_refused_with_why(operator_api, registry):
    Registry.objects.filter(pk=registry.pk).update(harbor_version="2.15.2", phase=Phase.UPGRADING)
    upgrade = Upgrade.objects.create(
        registry=registry,
        from_version="2.14.4",
        to_version="2.15.2",
        status=UpgradeStatus.HALTED,
        step="migration",
        steps=[{"name": "migration", "status": StepStatus.FAILED, "message": "Job failed"}],
        migration_job="reg-migration-2-15-2",
        migration_started_at=timezone.now(),
    )
    answer = operator_api.post(f"/api/v1/upgrades/{upgrade.pk}/rollback/")
    assert answer.status_code == 409
    assert "schema migration has run" in answer.json()["error"]["message"]
    upgrade.refresh_from_db()
    registry.refresh_from_db()
    assert upgrade.status == UpgradeStatus.HALTED and registry.harbor_version == "2.15.2"
    assert not AuditEvent.objects.filter(action="upgrade-rollback").exists()


def test_a_wave_plans_batches_of_the_selected_registries(operator_api, viewer_api):
    tenant = factories.tenant()
    chosen = [factories.registry(tenant=tenant) for _ in range(5)]
    factories.registry()  # another tenant's: not selected
    factories.registry(tenant=tenant, harbor_version="2.15.2")  # already there
    answer = operator_api.post(
        "/api/v1/waves/",
        {"name": "tenant to 2.15", "target_version": "2.15.2", "tenant": tenant.slug, "batch_size": 2},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = viewer_api.get(answer.json()["url"]).json()
    assert body["status"] == "planned"
    assert [len(b["registries"]) for b in body["batches"]] == [2, 2, 1]
    assert {name for b in body["batches"] for name in b["registries"]} == {str(r) for r in chosen}
    assert AuditEvent.objects.filter(action="wave-plan").count() == 1

    assert viewer_api.post(f"/api/v1/waves/{body['id']}/abort/").status_code == 403
    aborted = operator_api.post(f"/api/v1/waves/{body['id']}/abort/")
    assert aborted.status_code == 200 and aborted.json()["status"] == WaveStatus.ABORTED
    assert operator_api.post(f"/api/v1/waves/{body['id']}/start/").status_code == 409


def test_a_wave_that_selects_nothing_is_refused_and_not_stored(operator_api):
    answer = operator_api.post(
        "/api/v1/waves/",
        {"name": "nothing", "target_version": "2.15.2", "from_version": "2.13.0"},
        format="json",
    )
    assert answer.status_code == 400 and "No running registry matches" in answer.json()["error"]["message"]
    assert not Wave.objects.exists()


def test_a_waves_page_costs_the_same_queries_whatever_its_size(admin_user):
    client = token_client(admin_user)
    urls = []
    for size in (2, 8):
        tenant = factories.tenant()
        for _ in range(size):
            factories.registry(tenant=tenant)
        answer = client.post(
            "/api/v1/waves/",
            {"name": f"w{size}", "target_version": "2.15.2", "tenant": tenant.slug, "batch_size": 2},
            format="json",
        )
        urls.append(answer.json()["url"])
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_all_at_once_upgrade_is_refused_while_a_step_by_step_one_runs(operator_api, registry):
    Upgrade.objects.create(registry=registry, from_version="2.14.4", to_version="2.15.2", step="migration")
    answer = operator_api.post(
        f"/api/v1/registries/{registry.pk}/upgrade/", {"target_version": "2.15.2"}, format="json"
    )
    assert answer.status_code == 409 and "being upgraded step by step" in answer.json()["error"]["message"]
    registry.refresh_from_db()
    assert registry.harbor_version == "2.14.4"
