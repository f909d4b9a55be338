"""The Celery side: what each task sends where (read back from the real Redis broker), retries, sweep, purge."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from provisioning.choices import DesiredState, ErrorClass, Phase, RunStatus, RunTrigger, Via, WhoseMove
from provisioning.external import prepare_dependencies
from provisioning.models import AuditEvent, ReconcileRun, Registry
from provisioning.reconcile import Outcome, reconcile
from provisioning.reconcile.errors import Failure
from provisioning.services import registries
from provisioning.tasks import (
    EXPIRED,
    WORKER_LOST,
    backoff_seconds,
    close_stale_runs,
    purge_registry,
    reconcile_registry,
    schedule_next,
    send_reconcile,
    sweep_fleet,
)
from tests import factories
from tests.engine.helpers import wait_for, wait_phase
from tests.external.conftest import registry_with, s3_fields

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue():
    name = f"test-{factories.RUN}-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(name)


def messages(queue: str) -> list[dict[str, Any]]:
    """The task messages waiting on ``queue`` in the broker: task name, args, kwargs, eta, expires."""
    found = []
    for raw in redis.Redis.from_url(django_settings.CELERY_BROKER_URL).lrange(queue, 0, -1):
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        headers = message["headers"]
        found.append(
            {
                "task": headers["task"],
                "args": args,
                "kwargs": kwargs,
                "eta": headers.get("eta"),
                "expires": headers.get("expires"),
            }
        )
    return found


def in_seconds(stamp: str | None) -> float:
    assert stamp is not None
    return (datetime.fromisoformat(stamp) - timezone.now()).total_seconds()


def outcome(registry: Registry, **values: Any) -> Outcome:
    return Outcome(registry.pk, None, values.pop("status", RunStatus.SUCCEEDED), **values)


UNAVAILABLE = Failure(
    ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT, "ApiUnavailable", "503.", retry_after=None
)
FORBIDDEN = Failure(ErrorClass.API_FORBIDDEN, False, WhoseMove.PROVIDER, "ApiForbidden", "403.")


def test_the_sweep_sends_expiring_batches_of_live_registries_to_their_clusters_queue(queue, settings):
    settings.SWEEP_BATCH_SIZE = 2
    cluster = factories.cluster(queue=queue)
    live = [factories.registry(cluster=cluster) for _ in range(3)]
    queued = factories.registry(cluster=cluster)  # creation left a queued run: not swept again
    gone = factories.registry(cluster=cluster)
    Registry.objects.filter(pk=gone.pk).update(phase=Phase.DELETED)
    ReconcileRun.objects.filter(registry__in=[*live, gone]).update(status=RunStatus.SUCCEEDED)
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)
    runs_before = ReconcileRun.objects.count()

    assert sweep_fleet() == 3

    assert ReconcileRun.objects.count() == runs_before  # no row per registry per sweep
    sent = messages(queue)
    assert [m["task"] for m in sent] == ["provisioning.tasks.reconcile_batch"] * 2
    assert sorted(m["args"][0] for m in sent) == [[live[0].pk, live[1].pk], [live[2].pk]]
    assert all(0 < in_seconds(m["expires"]) <= django_settings.SWEEP_INTERVAL_SECONDS for m in sent)
    assert queued.pk not in {pk for m in sent for pk in m["args"][0]}


def test_stale_runs_are_closed_so_they_block_nothing():
    registry = factories.registry()
    long_ago = timezone.now() - timedelta(days=1)
    ReconcileRun.objects.filter(registry=registry).update(requested_at=long_ago)
    running = ReconcileRun.objects.create(
        registry=registry, trigger=RunTrigger.MANUAL, status=RunStatus.RUNNING, started_at=long_ago
    )
    fresh = ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.MANUAL)

    assert close_stale_runs() == (1, 1)

    assert ReconcileRun.objects.get(trigger=RunTrigger.CREATED).error_message == EXPIRED
    running.refresh_from_db()
    assert (running.status, running.error_message) == (RunStatus.FAILED, WORKER_LOST)
    assert ReconcileRun.objects.get(pk=fresh.pk).status == RunStatus.QUEUED


def test_backoff_grows_exponentially_with_jitter_up_to_the_sweep_interval(settings):
    settings.RECONCILE_RETRY_BASE_SECONDS = 10
    settings.SWEEP_INTERVAL_SECONDS = 300
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (6, 300), (12, 300)]:
        delays = [backoff_seconds(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert backoff_seconds(1, floor=30) == 30


def test_a_transient_failure_is_retried_later_as_a_new_attempt(queue, settings):
    settings.RECONCILE_MAX_RETRIES = 2
    registry = factories.registry(cluster=factories.cluster(queue=queue))
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)

    assert (
        schedule_next(outcome(registry, status=RunStatus.FAILED, failure=UNAVAILABLE), attempt=1) == "retry"
    )
    [retry] = messages(queue)
    assert retry["kwargs"] == {"run_id": None, "trigger": RunTrigger.RETRY, "attempt": 2}
    assert 0 < in_seconds(retry["eta"]) <= settings.RECONCILE_RETRY_BASE_SECONDS

    assert schedule_next(outcome(registry, status=RunStatus.FAILED, failure=UNAVAILABLE), attempt=3) == "none"
    assert schedule_next(outcome(registry, status=RunStatus.FAILED, failure=FORBIDDEN), attempt=1) == "none"
    assert schedule_next(outcome(registry, follow_up=True), attempt=1) == "follow_up"
    assert schedule_next(outcome(registry, changed_meanwhile=True), attempt=9) == "now"
    assert sorted(m["kwargs"]["trigger"] for m in messages(queue)) == sorted(
        [RunTrigger.RETRY, RunTrigger.FOLLOW_UP, RunTrigger.CHANGED]
    )


def test_the_task_schedules_its_own_retry(queue, emulated_cluster, kube_emulator):
    emulated_cluster.queue = queue
    emulated_cluster.save()
    registry = factories.registry(cluster=emulated_cluster)
    kube_emulator.fail_next(1, code=503, verbs=["list"])
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)

    assert reconcile_registry(registry.pk) == RunStatus.FAILED
    [retry] = messages(queue)
    assert retry["args"] == [registry.pk] and retry["kwargs"]["trigger"] == RunTrigger.RETRY
    run = ReconcileRun.objects.filter(registry=registry, trigger=RunTrigger.MANUAL).get()
    assert (run.status, run.error_class) == (RunStatus.FAILED, ErrorClass.API_UNAVAILABLE)


@pytest.mark.worker
def test_a_run_whose_task_expired_is_recorded_as_skipped(celery_worker, queue):
    registry = factories.registry(cluster=factories.cluster(queue=queue))  # its first run waits elsewhere
    run = ReconcileRun.objects.filter(registry=registry).get()
    send_reconcile(registry.pk, run_id=run.pk, queue=celery_worker.queue, expires=0.001)

    skipped = ReconcileRun.objects.filter(pk=run.pk, status=RunStatus.SKIPPED)
    run = wait_for(skipped.first, timeout=30, what="the expired run to be skipped")
    assert run.error_message == EXPIRED


def test_purging_a_deleted_registry_removes_its_data_and_marks_it_purged(
    emulated_cluster, s3_server, settings
):
    settings.PURGE_RETENTION_DAYS = 0
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    database, bucket = registry.database.name, registry.storage.bucket
    assert s3_server.bucket_exists(bucket)
    registries.delete(registry, actor=None, via=Via.SYSTEM)
    assert reconcile(registry.pk).phase == Phase.DELETED
    registry.refresh_from_db()

    run = registries.purge(registry, actor=None, via=Via.SYSTEM)
    assert purge_registry(registry.pk, run.pk) == RunStatus.SUCCEEDED

    registry.refresh_from_db()
    assert registry.phase == Phase.PURGED and registry.purged_at is not None
    assert not s3_server.bucket_exists(bucket)
    with psycopg.connect(emulated_cluster.database_admin_url) as conn:
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.operation == "purge"
    assert purge_registry(registry.pk) == RunStatus.SUCCEEDED  # again: already purged, nothing to do


def test_a_forced_purge_is_audited_and_reaches_the_task_on_the_clusters_queue(queue, settings):
    settings.PURGE_RETENTION_DAYS = 0
    registry = factories.registry(cluster=factories.cluster(queue=queue))
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETED, deleted_at=timezone.now()
    )
    registry.refresh_from_db()
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(queue)  # the creation's reconcile

    run = registries.purge(registry, actor="ops", via=Via.SYSTEM, force=True)

    [message] = messages(queue)
    assert message["task"] == "provisioning.tasks.purge_registry"
    assert (message["args"], message["kwargs"]) == ([registry.pk], {"run_id": run.pk, "force": True})
    assert AuditEvent.objects.get(registry=registry, action="purge").changes == {"force": True}


def test_a_bucket_still_holding_objects_is_purged_only_when_forced(s3_server, postgres_admin_url):
    registry = registry_with(database_admin_url=postgres_admin_url, **s3_fields(s3_server))
    assert prepare_dependencies(registry).ready
    bucket = Registry.objects.get(pk=registry.pk).storage.bucket
    s3_server.client().put_object(Bucket=bucket, Key="v2/blobs/sha256/ab", Body=b"layer")
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETED, deleted_at=timezone.now()
    )

    refused = ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.ACTION, operation="purge")
    assert purge_registry(registry.pk, refused.pk) == RunStatus.FAILED
    refused.refresh_from_db()
    assert "still holds 1 objects" in refused.error_message
    assert s3_server.bucket_exists(bucket)
    assert Registry.objects.get(pk=registry.pk).phase == Phase.DELETED

    forced = ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.ACTION, operation="purge")
    assert purge_registry(registry.pk, forced.pk, force=True) == RunStatus.SUCCEEDED
    assert not s3_server.bucket_exists(bucket)
    assert Registry.objects.get(pk=registry.pk).phase == Phase.PURGED


def test_a_registry_whose_stack_is_not_gone_is_not_purged():
    registry = factories.registry()
    run = ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.ACTION, operation="purge")
    assert purge_registry(registry.pk, run.pk) == RunStatus.FAILED
    run.refresh_from_db()
    assert "must be gone before its data is purged" in run.error_message
    assert Registry.objects.get(pk=registry.pk).phase == Phase.PENDING


@pytest.mark.worker
def test_a_created_registry_is_reconciled_on_its_clusters_queue_after_commit(
    celery_worker, make_emulated_cluster
):
    registry = factories.registry(cluster=make_emulated_cluster(queue=celery_worker.queue))
    wait_phase(registry, Phase.READY)
    # the task logs its outcome once the run is recorded (and the phase with it): a moment after Ready shows
    wait_for(lambda: f"reconciled registry {registry.pk}" in celery_worker.log(), what="the task's log line")
