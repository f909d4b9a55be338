"""A bulk upgrade answers 202 at a constant number of queries: the request refuses what every upgrade entry point
refuses and lists each deployed registry as a pending upgrade; a worker starts each one's step-by-step upgrade
(pre-flight, audit, event) and records the outcome on the bulk operation as it comes."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provisioning.choices import Phase, RunStatus
from provisioning.models import AuditEvent, BulkOperation, ReconcileRun, Registry, Upgrade, UpgradeStatus
from provisioning.reconcile import reconcile
from provisioning.rendering.upgrade import MIGRATION
from provisioning.services import bulk
from tests import factories
from tests.api.conftest import token_client
from tests.engine.helpers import wait_for, wait_phase

FROM, TO = "2.14.4", "2.15.2"
URL = "/api/v1/registries/bulk/"


def deployed_fleet(count: int) -> list[Registry]:
    """Registries that ran Harbor (Ready at FROM): each would get a step-by-step upgrade."""
    tenant, plan, cluster = factories.tenant(), factories.plan(), factories.cluster()
    made = [
        factories.registry(tenant=tenant, plan=plan, cluster=cluster, harbor_version=FROM)
        for _ in range(count)
    ]
    Registry.objects.filter(pk__in=[r.pk for r in made]).update(phase=Phase.READY, deployed_version=FROM)
    ReconcileRun.objects.filter(registry__in=made).update(status=RunStatus.SUCCEEDED)
    return made


def upgrade_payload(registries: list[Registry], version: str = TO) -> dict[str, Any]:
    return {"action": "upgrade", "target_version": version, "ids": [r.pk for r in registries]}


@pytest.mark.django_db
def test_a_bulk_upgrade_answers_at_the_same_number_of_queries_for_3_and_30_registries(
    operator, django_assert_max_num_queries
):
    api = token_client(operator)
    with CaptureQueriesContext(connection) as few:
        answer = api.post(URL, upgrade_payload(deployed_fleet(3)), format="json")
    assert answer.status_code == 202, answer.json()
    many = deployed_fleet(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        answer = api.post(URL, upgrade_payload(many), format="json")
    assert answer.status_code == 202, answer.json()
    data = answer.json()
    assert data["counts"]["accepted"] == 30 and data["counts"]["upgrades_pending"] == 30
    assert {item["registry"] for item in data["upgrades"]} == {r.pk for r in many}
    assert all(item["upgrade"] is None and item["status"] == "pending" for item in data["upgrades"])
    assert not Upgrade.objects.exists()  # the worker starts them
    assert set(
        Registry.objects.filter(pk__in=[r.pk for r in many]).values_list("harbor_version", flat=True)
    ) == {FROM}


@pytest.mark.django_db
def test_the_request_refuses_what_every_entry_point_refuses_and_sends_one_message_per_queue(
    operator, django_capture_on_commit_callbacks, monkeypatch
):
    first, second, upgrading = deployed_fleet(3)
    other_queue = deployed_fleet(1)[0]
    other_queue.cluster.queue = "other-queue"
    other_queue.cluster.save(update_fields=["queue"])
    Upgrade.objects.create(registry=upgrading, from_version=FROM, to_version=TO, step=MIGRATION)
    sent: list[tuple[tuple[int, list[int]], str]] = []
    monkeypatch.setattr(
        bulk.start_bulk_upgrades, "apply_async", lambda args, queue: sent.append((tuple(args), queue))
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = token_client(operator).post(
            URL, upgrade_payload([first, second, upgrading, other_queue]), format="json"
        )
    assert answer.status_code == 202, answer.json()
    data = answer.json()
    assert [(r["registry"], r["code"]) for r in data["refusals"]] == [(upgrading.pk, "upgrade_under_way")]
    assert sorted(sent, key=lambda item: item[1]) == sorted(
        [
            ((data["id"], [first.pk, second.pk]), first.cluster.queue),
            ((data["id"], [other_queue.pk]), "other-queue"),
        ],
        key=lambda item: item[1],
    )
    assert AuditEvent.objects.filter(action="bulk_upgrade").count() == 1
    assert not AuditEvent.objects.filter(action="upgrade").exists()


@pytest.mark.django_db
def test_the_worker_records_each_outcome_and_starts_none_twice(operator, make_emulated_cluster):
    cluster = make_emulated_cluster(backup_marker="PITR, 7 days")
    no_backup = make_emulated_cluster(backup_marker="")
    tenant = factories.tenant()
    ready = []
    for target in (cluster, cluster, no_backup):
        registry = factories.registry(cluster=target, tenant=tenant, harbor_version=FROM)
        assert reconcile(registry.pk).phase == Phase.READY
        ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
        ready.append(registry)
    first, taken, halted = ready
    api = token_client(operator)
    data = api.post(URL, upgrade_payload(ready), format="json").json()
    assert data["counts"]["upgrades_pending"] == 3
    # after the request, someone upgrades one of them by itself: the worker refuses it as every entry point does
    by_itself = api.post(f"/api/v1/registries/{taken.pk}/upgrade/", {"target_version": TO}, format="json")
    assert by_itself.status_code == 202, by_itself.json()

    ids = [r.pk for r in ready]
    assert bulk.start_bulk_upgrades(data["id"], ids) == 1
    assert bulk.start_bulk_upgrades(data["id"], ids) == 0  # delivered again: nothing more
    summary = api.get(data["url"]).json()
    [started] = summary["upgrades"]
    assert started["registry"] == first.pk and started["status"] == "running"
    assert Upgrade.objects.filter(registry=first).count() == 1
    refusals = {r["registry"]: r for r in summary["refusals"]}
    assert refusals[taken.pk]["code"] == "upgrade_not_allowed"  # it runs the target now (being upgraded)
    assert f"already runs Harbor {TO}" in refusals[taken.pk]["reason"]
    assert (
        refusals[halted.pk]["code"] == "preflight_failed" and "backup marker" in refusals[halted.pk]["reason"]
    )
    assert Upgrade.objects.get(pk=refusals[halted.pk]["upgrade"]).status == UpgradeStatus.HALTED
    assert Upgrade.objects.filter(registry=taken).count() == 1
    counts = summary["counts"]
    assert (
        counts["accepted"],
        counts["refused"],
        counts["upgrades_pending"],
        counts["upgrades_running"],
    ) == (
        1,
        2,
        0,
        1,
    )
    audit = AuditEvent.objects.get(action="upgrade", registry=first)
    assert audit.actor == operator and audit.changes["upgrade"] == started["upgrade"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_starts_the_upgrades_of_a_bulk_upgrade_and_reports_them(
    make_emulated_cluster, celery_worker, operator
):
    cluster = make_emulated_cluster(queue=celery_worker.queue, backup_marker="PITR, 7 days")
    no_backup = make_emulated_cluster(queue=celery_worker.queue, backup_marker="")
    tenant = factories.tenant()
    registries = [
        factories.registry(cluster=target, tenant=tenant, harbor_version=FROM)
        for target in (cluster, cluster, no_backup)
    ]
    for registry in registries:
        wait_phase(registry, Phase.READY, timeout=120)
    api = token_client(operator)
    answer = api.post(
        URL, {"action": "upgrade", "target_version": TO, "filters": {"tenant": tenant.slug}}, format="json"
    )
    assert answer.status_code == 202, answer.json()
    assert answer.json()["counts"]["upgrades_pending"] == 3

    def reported() -> dict[str, Any] | None:
        summary = api.get(answer.json()["url"]).json()
        return summary if summary["counts"]["upgrades_pending"] == 0 else None

    summary = wait_for(reported, timeout=120, what="the worker to start every upgrade")
    started = {item["registry"]: item for item in summary["upgrades"]}
    assert sorted(started) == sorted(r.pk for r in registries[:2])
    assert all(item["status"] in ("running", "succeeded") for item in started.values())
    [refusal] = summary["refusals"]
    assert refusal["registry"] == registries[2].pk and refusal["code"] == "preflight_failed"
    assert Upgrade.objects.get(pk=refusal["upgrade"]).status == UpgradeStatus.HALTED
    assert BulkOperation.objects.get(pk=summary["id"]).upgrades == [
        {"registry": pk, "upgrade": started[pk]["upgrade"]} for pk in sorted(started)
    ]
