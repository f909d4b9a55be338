"""Two reconciles of one registry never interleave: one holds the lock, the other is dropped as a skipped run."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from provisioning.choices import Phase, RunStatus, RunTrigger
from provisioning.models import ReconcileLease, ReconcileRun
from provisioning.reconcile import reconcile
from provisioning.reconcile.engine import LOCK_HELD
from provisioning.reconcile.lock import LeaseLock, RedisLock, holding, registry_lock
from provisioning.tasks import send_reconcile
from tests import factories
from tests.engine.helpers import run_of, wait_for, wait_phase

pytestmark = pytest.mark.django_db(transaction=True)


def assert_never_interleaved(runs: list[ReconcileRun]) -> None:
    spans = sorted((r.started_at, r.finished_at, r.pk) for r in runs if r.status != RunStatus.SKIPPED)
    assert all(start is not None and end is not None for start, end, _ in spans)
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        assert end <= start, f"runs {first} and {second} overlap"  # type: ignore[operator]


@pytest.mark.worker
def test_two_workers_never_reconcile_one_registry_at_once(
    celery_worker_factory, make_emulated_cluster, kube_emulator
):
    first = celery_worker_factory()
    celery_worker_factory(queue=first.queue)
    registry = factories.registry(cluster=make_emulated_cluster(queue=first.queue))
    wait_phase(registry, Phase.READY)
    kube_emulator.set_faults(error_rate=0.0, latency_ms=40)  # slow requests: runs last long enough to meet
    started = timezone.now()

    for _ in range(4):
        send_reconcile(registry.pk, trigger=RunTrigger.MANUAL)
    sent = ReconcileRun.objects.filter(requested_at__gte=started, trigger=RunTrigger.MANUAL)
    wait_for(lambda: sent.filter(finished_at__isnull=False).count() == 4, what="the four runs to finish")
    wait_for(lambda: not ReconcileRun.objects.filter(finished_at__isnull=True).exists(), what="follow-ups")
    runs = list(ReconcileRun.objects.filter(requested_at__gte=started))

    skipped = [r for r in runs if r.status == RunStatus.SKIPPED]
    assert skipped and all(r.error_message == LOCK_HELD for r in skipped)
    assert all(r.status in (RunStatus.SUCCEEDED, RunStatus.SKIPPED) for r in runs)
    assert_never_interleaved(runs)


def test_concurrent_runs_in_threads_with_the_database_lease(make_emulated_cluster, kube_emulator, settings):
    settings.REDIS_URL = ""  # the embedded mode: the lock is a lease row
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    kube_emulator.set_faults(error_rate=0.0, latency_ms=40)
    barrier = threading.Barrier(3)
    outcomes = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(reconcile(registry.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(o.status for o in outcomes)
    assert statuses.count(RunStatus.SKIPPED) >= 1 and RunStatus.SUCCEEDED in statuses
    assert_never_interleaved(list(ReconcileRun.objects.filter(pk__in=[o.run_id for o in outcomes])))
    assert ReconcileLease.objects.get(registry=registry).holder == ""  # given back


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_a_lock_is_exclusive_released_only_by_its_holder_and_expires(backend, settings):
    if backend == "database":
        settings.REDIS_URL = ""
    registry = factories.registry()
    first, second = registry_lock(registry.pk, ttl_seconds=30), registry_lock(registry.pk, ttl_seconds=30)
    assert isinstance(first, RedisLock if backend == "redis" else LeaseLock)

    assert first.acquire()
    assert not second.acquire()
    second.release()  # not the holder: changes nothing
    assert not second.acquire()
    assert first.extend()
    first.release()
    assert second.acquire()
    second.release()

    with holding(registry.pk) as held:
        assert held is not None
        with holding(registry.pk) as duplicate:
            assert duplicate is None
    with holding(registry.pk) as again:
        assert again is not None


def test_an_expired_database_lease_can_be_taken_over(settings):
    settings.REDIS_URL = ""
    registry = factories.registry()
    crashed = registry_lock(registry.pk, ttl_seconds=30)
    assert crashed.acquire()
    ReconcileLease.objects.filter(registry=registry).update(expires_at=timezone.now() - timedelta(seconds=1))

    successor = registry_lock(registry.pk, ttl_seconds=30)
    assert successor.acquire()
    assert not crashed.extend()  # the crashed holder lost it


def test_an_expired_redis_lock_can_be_taken_over():
    registry = factories.registry()
    crashed = RedisLock(registry.pk, 1, settings_redis_url())
    assert crashed.acquire()
    crashed.client.pexpire(crashed.key, 50)
    time.sleep(0.1)
    successor = RedisLock(registry.pk, 30, settings_redis_url())
    assert successor.acquire()
    crashed.release()
    assert successor.client.get(successor.key) == successor.token.encode()
    successor.release()


def settings_redis_url() -> str:
    from django.conf import settings

    return str(settings.REDIS_URL)


def test_a_run_dropped_while_another_works_makes_the_holder_look_again(make_emulated_cluster, kube_emulator):
    """What was asked for during a run is not lost: the run that held the lock says to run once more."""
    registry = factories.registry(cluster=make_emulated_cluster())
    assert not reconcile(registry.pk).changed_meanwhile
    kube_emulator.set_faults(error_rate=0.0, latency_ms=40)
    outcomes = []

    def hold() -> None:
        try:
            outcomes.append(reconcile(registry.pk))
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    wait_for(lambda: ReconcileRun.objects.filter(registry=registry, status=RunStatus.RUNNING).exists())
    dropped = reconcile(registry.pk)
    holder.join(timeout=60)

    assert dropped.status == RunStatus.SKIPPED
    assert outcomes[0].status == RunStatus.SUCCEEDED and outcomes[0].changed_meanwhile


def test_a_lock_service_that_fails_is_a_transient_failure_on_the_run(settings, emulated_cluster):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    registry = factories.registry(cluster=emulated_cluster)
    outcome = reconcile(registry.pk)
    assert outcome.status == RunStatus.FAILED and outcome.should_retry
    run = run_of(outcome)
    assert run.error_class == "INTERNAL" and run.error_message.startswith("The console's Redis failed")
