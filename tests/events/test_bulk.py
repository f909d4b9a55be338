"""Bulk operations: one request, one run per accepted registry, refusals with their reason, a constant number of
queries whatever the selection, operator and above only, audited, idempotent."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provisioning.choices import DesiredState, RunStatus
from provisioning.models import AuditEvent, BulkOperation, Event, ReconcileRun, Registry
from tests import factories
from tests.api.conftest import suspended_registry, token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/registries/bulk/"


def settle(*registries):
    ReconcileRun.objects.filter(registry__in=registries).update(status=RunStatus.SUCCEEDED)


def fleet(n, **fields):
    tenant = factories.tenant()
    plan, cluster = factories.plan(), factories.cluster()
    made = [factories.registry(tenant=tenant, plan=plan, cluster=cluster, **fields) for _ in range(n)]
    settle(*made)
    return made


def queries_for(api, payload):
    with CaptureQueriesContext(connection) as captured:
        answer = api.post(URL, payload, format="json")
    assert answer.status_code == 202, answer.content
    return len(captured.captured_queries)


def test_suspend_by_ids_queues_one_run_per_registry_and_refuses_mid_upgrade(operator):
    registries = fleet(3)
    upgrading = registries[2]
    Registry.objects.filter(pk=upgrading.pk).update(harbor_version="2.15.2", deployed_version="2.14.4")
    answer = token_client(operator).post(
        URL, {"action": "suspend", "ids": [r.pk for r in registries]}, format="json"
    )
    assert answer.status_code == 202, answer.content
    data = answer.json()
    assert answer["Location"] == data["url"]
    assert (
        data["counts"]["selected"] == 3 and data["counts"]["accepted"] == 2 and data["counts"]["queued"] == 2
    )
    assert data["refusals"] == [
        {"registry": upgrading.pk, "code": "upgrade_in_progress", "reason": data["refusals"][0]["reason"]}
    ]
    assert "upgrade" in data["refusals"][0]["reason"]
    runs = {item["registry"]: item["run"] for item in data["runs"]}
    assert set(runs) == {registries[0].pk, registries[1].pk}
    for registry in registries[:2]:
        registry.refresh_from_db()
        assert registry.desired_state == DesiredState.SUSPENDED and registry.generation == 2
        run = ReconcileRun.objects.get(pk=runs[registry.pk])
        assert run.status == RunStatus.QUEUED and run.operation == "suspend" and run.requested_by == operator
    upgrading.refresh_from_db()
    assert upgrading.desired_state == DesiredState.RUNNING
    assert AuditEvent.objects.filter(action="suspend", registry__in=registries[:2]).count() == 2
    assert AuditEvent.objects.filter(action="bulk_suspend").count() == 1
    suspended = Event.objects.filter(type="io.harbor-console.registry.suspended")
    assert sorted(suspended.values_list("registry_id", flat=True)) == sorted(runs)

    summary = token_client(operator).get(data["url"]).json()
    assert summary["counts"] == data["counts"]


def test_the_query_count_does_not_grow_with_the_selection(operator, django_assert_max_num_queries):
    api = token_client(operator)
    few = queries_for(api, {"action": "reconcile", "ids": [r.pk for r in fleet(2)]})
    many = fleet(40)
    with django_assert_max_num_queries(few):
        answer = api.post(URL, {"action": "reconcile", "ids": [r.pk for r in many]}, format="json")
    assert answer.json()["counts"]["accepted"] == 40
    assert ReconcileRun.objects.filter(registry__in=many, status=RunStatus.QUEUED).count() == 40


def test_upgrade_by_filters_refuses_what_the_catalogue_refuses(operator):
    registries = fleet(2)
    other = factories.registry(harbor_version="2.13.0")
    settle(other)
    answer = token_client(operator).post(
        URL,
        {"action": "upgrade", "target_version": "2.15.2", "filters": {"tenant": registries[0].tenant.slug}},
        format="json",
    )
    assert answer.status_code == 202, answer.content
    data = answer.json()
    assert sorted(item["registry"] for item in data["runs"]) == sorted(r.pk for r in registries)
    other.refresh_from_db()
    assert other.harbor_version == "2.13.0"
    assert Registry.objects.get(pk=registries[0].pk).harbor_version == "2.15.2"
    assert data["selection"] == {"filters": {"tenant": registries[0].tenant.slug}}


def test_resume_refuses_what_is_not_suspended(operator):
    running = fleet(1)[0]
    paused = suspended_registry()
    data = (
        token_client(operator)
        .post(URL, {"action": "resume", "ids": [running.pk, paused.pk]}, format="json")
        .json()
    )
    assert [item["registry"] for item in data["runs"]] == [paused.pk]
    assert [(r["registry"], r["code"]) for r in data["refusals"]] == [(running.pk, "not_suspended")]


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "suspend"},
        {"action": "suspend", "ids": [1], "filters": {"tenant": "x"}},
        {"action": "suspend", "filters": {}},
        {"action": "suspend", "filters": {"tenat": "x"}},
        {"action": "upgrade", "ids": [1]},
        {"action": "reconcile", "ids": [1], "target_version": "2.15.2"},
        {"action": "explode", "ids": [1]},
        {"action": "suspend", "ids": []},
        {"action": "suspend", "filters": {"phase": ["Nope"]}},
    ],
)
def test_a_bad_request_changes_nothing(operator, payload):
    registry = fleet(1)[0]
    payload = {**payload, "ids": [registry.pk]} if payload.get("ids") == [1] else payload
    answer = token_client(operator).post(URL, payload, format="json")
    assert answer.status_code == 400, answer.content
    assert not BulkOperation.objects.exists()
    assert Registry.objects.get(pk=registry.pk).generation == 1


@pytest.mark.parametrize("persona", ["anonymous", "stranger", "viewer"])
def test_viewers_cannot_run_bulk_operations(client_for, persona):
    registry = fleet(1)[0]
    answer = client_for(persona).post(URL, {"action": "suspend", "ids": [registry.pk]}, format="json")
    assert answer.status_code == (401 if persona == "anonymous" else 403)
    assert Registry.objects.get(pk=registry.pk).desired_state == DesiredState.RUNNING
    assert not BulkOperation.objects.exists()


def test_a_repeated_idempotency_key_replays_the_first_answer(operator):
    registries = fleet(2)
    api = token_client(operator)
    payload = {"action": "suspend", "ids": [r.pk for r in registries]}
    first = api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    again = api.post(URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="bulk-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    assert BulkOperation.objects.count() == 1


def test_a_summary_counts_runs_by_their_status_now(operator, viewer):
    registries = fleet(2)
    data = (
        token_client(operator)
        .post(URL, {"action": "reconcile", "ids": [r.pk for r in registries]}, format="json")
        .json()
    )
    first_run = data["runs"][0]["run"]
    ReconcileRun.objects.filter(pk=first_run).update(status=RunStatus.SUCCEEDED)
    ReconcileRun.objects.filter(pk=data["runs"][1]["run"]).delete()  # pruned
    summary = token_client(viewer).get(data["url"]).json()
    assert summary["counts"]["succeeded"] == 1 and summary["counts"]["unknown"] == 1
    assert summary["counts"]["queued"] == 0
    assert token_client(viewer).get("/api/v1/bulk-operations/").json()["count"] == 1


def test_the_request_sends_one_message_and_the_fan_out_enqueues_each_queued_run(
    operator, django_capture_on_commit_callbacks, monkeypatch
):
    from provisioning.services import bulk

    registries = fleet(3)
    sent: list[int] = []
    monkeypatch.setattr(bulk.fan_out_bulk, "apply_async", lambda args: sent.append(args[0]))
    with django_capture_on_commit_callbacks(execute=True):
        data = (
            token_client(operator)
            .post(URL, {"action": "reconcile", "ids": [r.pk for r in registries]}, format="json")
            .json()
        )
    assert sent == [data["id"]]

    ReconcileRun.objects.filter(pk=data["runs"][0]["run"]).update(status=RunStatus.SUCCEEDED)  # already ran
    enqueued: list[tuple[int, int, str]] = []
    monkeypatch.setattr(bulk, "enqueue", lambda items: enqueued.extend(items))
    assert bulk.fan_out_bulk(data["id"]) == 2
    queue = registries[0].cluster.queue
    assert sorted(enqueued) == sorted((item["run"], item["registry"], queue) for item in data["runs"][1:])


def test_a_registry_in_a_step_by_step_upgrade_is_refused_an_upgrade_and_a_suspend(operator):
    from provisioning.models import Upgrade

    registries = fleet(2)
    Upgrade.objects.create(registry=registries[0], from_version="2.14.4", to_version="2.15.2")
    api = token_client(operator)
    for payload, code in (
        ({"action": "upgrade", "target_version": "2.15.2"}, "upgrade_under_way"),
        ({"action": "suspend"}, "upgrade_in_progress"),
    ):
        data = api.post(URL, {**payload, "ids": [r.pk for r in registries]}, format="json").json()
        assert [(r["registry"], r["code"]) for r in data["refusals"]] == [(registries[0].pk, code)]
        assert [item["registry"] for item in data["runs"]] == [registries[1].pk]
        settle(*registries)
    assert Registry.objects.get(pk=registries[0].pk).harbor_version == "2.14.4"
