"""Two reconciles of one registry never interleave, and none asked for is lost.

One run holds the registry's lock (kept by a heartbeat while it works); a run refused by it is recorded as
skipped and leaves a request, which one more run carries out once the holder finishes (however many were
refused), or once a dead holder's lock has lapsed.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from provisioning.choices import Phase, RunStatus, RunTrigger, Via
from provisioning.models import ReconcileLease, ReconcileRun
from provisioning.reconcile import reconcile
from provisioning.reconcile.engine import LOCK_HELD, Reconciler
from provisioning.reconcile.lock import (
    Heartbeat,
    LeaseLock,
    RedisLock,
    heartbeat,
    holding,
    lock_holder,
    registry_lock,
)
from provisioning.services import registries
from provisioning.tasks import WORKER_LOST, close_stale_runs, reconcile_registry, send_reconcile
from tests import factories
from tests.engine.helpers import run_of, wait_for, wait_phase

pytestmark = pytest.mark.django_db(transaction=True)

LOCK_TTL = 10
"""The shortest TTL the settings accept: the killed worker's test waits about this long, not a minute."""


def assert_never_interleaved(runs: list[ReconcileRun]) -> None:
    spans = sorted((r.started_at, r.finished_at, r.pk) for r in runs if r.status != RunStatus.SKIPPED)
    assert all(start is not None and end is not None for start, end, _ in spans)
    for (_, end, first), (start, _, second) in itertools.pairwise(spans):
        assert end <= start, f"runs {first} and {second} overlap"  # type: ignore[operator]


@pytest.mark.worker
def test_two_workers_never_reconcile_one_registry_at_once(
    celery_worker_factory, make_emulated_cluster, kube_emulator
):
    """Ten requests during one run: never two runs at once, each refused one recorded, one run carries them out."""
    first = celery_worker_factory()
    celery_worker_factory(queue=first.queue)
    registry = factories.registry(cluster=make_emulated_cluster(queue=first.queue))
    wait_phase(registry, Phase.READY)
    wait_for(lambda: not ReconcileRun.objects.open().exists(), what="the creation's runs")
    kube_emulator.set_faults(error_rate=0.0, latency_ms=500, verbs=["list"])  # each run lasts seconds
    started = timezone.now()

    send_reconcile(registry.pk, trigger=RunTrigger.MANUAL)
    holder = wait_for(
        lambda: ReconcileRun.objects.filter(requested_at__gte=started, status=RunStatus.RUNNING).first(),
        what="a run to start",
    )
    for _ in range(10):
        send_reconcile(registry.pk, trigger=RunTrigger.MANUAL)
    refused = ReconcileRun.objects.filter(requested_at__gte=started, status=RunStatus.SKIPPED)
    wait_for(lambda: refused.count() == 10, what="the ten requests to meet the running one")
    assert ReconcileRun.objects.get(pk=holder.pk).status == RunStatus.RUNNING, "the run ended too soon"
    kube_emulator.clear_faults()
    follow_ups = ReconcileRun.objects.filter(requested_at__gte=started, trigger=RunTrigger.DEFERRED)
    wait_for(lambda: follow_ups.filter(finished_at__isnull=False).exists(), what="the follow-up run")
    wait_for(lambda: not ReconcileRun.objects.open().exists(), what="every run to finish")

    runs = list(ReconcileRun.objects.filter(requested_at__gte=started))
    assert all(r.error_message == LOCK_HELD for r in refused)
    assert [r.status for r in runs if r.status != RunStatus.SKIPPED] == [RunStatus.SUCCEEDED] * 2
    [follow_up] = follow_ups
    holder_finished = ReconcileRun.objects.get(pk=holder.pk).finished_at
    assert follow_up.started_at and holder_finished and follow_up.started_at > holder_finished
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


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_requests_refused_during_a_run_are_coalesced_into_one_more_run(
    backend, make_emulated_cluster, kube_emulator, settings
):
    """What was asked for during a run is not lost, and ten requests make one more run, not ten."""
    if backend == "database":
        settings.REDIS_URL = ""
    registry = factories.registry(cluster=make_emulated_cluster())
    assert not reconcile(registry.pk).requested_meanwhile
    kube_emulator.set_faults(error_rate=0.0, latency_ms=200, verbs=["list"])
    outcomes = []

    def hold() -> None:
        try:
            outcomes.append(reconcile(registry.pk))
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    wait_for(lambda: ReconcileRun.objects.filter(registry=registry, status=RunStatus.RUNNING).exists())
    refused = [reconcile(registry.pk, trigger=RunTrigger.MANUAL) for _ in range(10)]
    holder.join(timeout=60)

    assert [o.status for o in refused] == [RunStatus.SKIPPED] * 10
    assert all(run_of(o).error_message == LOCK_HELD for o in refused)
    checks = [o.check_after for o in refused if o.check_after is not None]
    assert len(checks) == 1 and 0 < checks[0] <= settings.RECONCILE_LOCK_TTL_SECONDS + 1  # one deferred check
    [held] = outcomes
    assert held.status == RunStatus.SUCCEEDED and held.requested_meanwhile
    assert not registry_lock(registry.pk).requested()  # taken by the holder: one more run, then nothing


@pytest.mark.parametrize("backend", ["redis", "database"])
def test_a_heartbeat_keeps_a_working_runs_lock_past_its_ttl_and_notices_losing_it(backend, settings):
    if backend == "database":
        settings.REDIS_URL = ""
    registry = factories.registry()
    lock = registry_lock(registry.pk, ttl_seconds=1, holder="run-1")
    assert lock.acquire()
    with heartbeat(lock, ttl_seconds=1) as beat:
        time.sleep(2.5)  # more than twice the TTL
        assert not registry_lock(registry.pk, ttl_seconds=1).acquire(), "the lock lapsed under a live run"
        assert lock_holder(registry.pk) == "run-1" and not beat.lost.is_set()
        # as if this process had stalled past the TTL and another run had taken the lock meanwhile
        if isinstance(lock, RedisLock):
            lock.client.set(lock.key, "run-2:0123", px=30_000)
        else:
            ReconcileLease.objects.filter(registry=registry).update(
                holder="run-2:0123", expires_at=timezone.now() + timedelta(seconds=30)
            )
        wait_for(beat.lost.is_set, timeout=5, what="the heartbeat to notice the lock is gone")
    assert lock_holder(registry.pk) == "run-2"


def test_a_run_whose_lock_lapsed_stops_before_writing(make_emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=make_emulated_cluster())
    lock = registry_lock(registry.pk, holder="run-0")
    assert lock.acquire()
    beat = Heartbeat(lock, 3600)
    beat.lost.set()
    run = ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.MANUAL)
    kube_emulator.reset_stats()

    outcome = Reconciler(registry.pk, run, beat).run()

    assert outcome.status == RunStatus.FAILED and outcome.should_retry
    assert "lost its registry's lock" in run_of(outcome).error_message
    assert kube_emulator.stats()["writes"] == 0
    lock.release()


def test_a_running_run_is_closed_as_lost_only_once_it_no_longer_holds_its_lock(settings):
    registry = factories.registry()
    long_ago = timezone.now() - timedelta(seconds=10 * settings.RECONCILE_LOCK_TTL_SECONDS)
    working, dead = (
        ReconcileRun.objects.create(
            registry=registry, trigger=RunTrigger.MANUAL, status=RunStatus.RUNNING, started_at=long_ago
        )
        for _ in range(2)
    )
    lock = registry_lock(registry.pk, holder=f"run-{working.pk}")
    assert lock.acquire()  # a long run, kept alive by its heartbeat

    assert close_stale_runs() == (0, 1)

    assert ReconcileRun.objects.get(pk=working.pk).status == RunStatus.RUNNING
    assert (
        ReconcileRun.objects.get(pk=dead.pk).status,
        ReconcileRun.objects.get(pk=dead.pk).error_message,
    ) == (
        RunStatus.FAILED,
        WORKER_LOST,
    )
    lock.release()


@pytest.mark.worker
def test_a_killed_workers_registry_runs_what_was_asked_once_its_lock_lapses(
    celery_worker_factory, make_emulated_cluster, kube_emulator, settings
):
    """A worker killed mid-run (SIGKILL: no clean-up) holds its lock no longer than its TTL, and a reconcile asked
    for meanwhile is carried out then, without two runs overlapping."""
    env = {"RECONCILE_LOCK_TTL_SECONDS": str(LOCK_TTL)}
    first = celery_worker_factory(env=env)
    second = celery_worker_factory(queue=first.queue, env=env)
    registry = factories.registry(cluster=make_emulated_cluster(queue=first.queue))
    wait_phase(registry, Phase.READY)
    wait_for(lambda: not ReconcileRun.objects.open().exists(), what="the creation's runs")
    kube_emulator.set_faults(error_rate=0.0, latency_ms=500, verbs=["list"])  # a run lasts seconds
    started = timezone.now()

    task = reconcile_registry.apply_async(
        args=(registry.pk,), kwargs={"trigger": RunTrigger.MANUAL}, queue=first.queue
    )
    doomed = wait_for(
        lambda: ReconcileRun.objects.filter(requested_at__gte=started, status=RunStatus.RUNNING).first(),
        what="the run to start",
    )
    holder = wait_for(
        lambda: next((w for w in (first, second) if task.id in w.log()), None), what="its worker"
    )
    survivor = second if holder is first else first
    os.killpg(holder.process.pid, signal.SIGKILL)
    holder.process.wait(timeout=10)
    killed_at = timezone.now()
    assert lock_holder(registry.pk) == f"run-{doomed.pk}"  # the dead run's lock is still there

    registries.reconcile_now(registry, actor=None, via=Via.SYSTEM)
    refused = wait_for(
        lambda: ReconcileRun.objects.filter(requested_at__gte=killed_at, status=RunStatus.SKIPPED).first(),
        what="the request to meet the dead run's lock",
    )
    assert refused.error_message == LOCK_HELD
    kube_emulator.clear_faults()
    carried_out = wait_for(
        lambda: ReconcileRun.objects.filter(
            requested_at__gte=killed_at, trigger=RunTrigger.DEFERRED, status=RunStatus.SUCCEEDED
        ).first(),
        timeout=LOCK_TTL * 4,
        what="the request to be carried out once the lock lapsed",
    )
    assert f"reconciled registry {registry.pk}" in survivor.log()
    assert carried_out.started_at is not None and carried_out.started_at > killed_at
    assert ReconcileRun.objects.get(pk=doomed.pk).status == RunStatus.RUNNING  # until the sweep closes it
    assert close_stale_runs(timezone.now() + timedelta(seconds=settings.RECONCILE_LOCK_TTL_SECONDS)) == (0, 1)
    assert ReconcileRun.objects.get(pk=doomed.pk).error_message == WORKER_LOST
    finished = [r for r in ReconcileRun.objects.filter(requested_at__gte=started) if r.pk != doomed.pk]
    assert_never_interleaved(finished)


def test_a_lock_service_that_fails_is_a_transient_failure_on_the_run(settings, emulated_cluster):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    registry = factories.registry(cluster=emulated_cluster)
    outcome = reconcile(registry.pk)
    assert outcome.status == RunStatus.FAILED and outcome.should_retry
    run = run_of(outcome)
    assert run.error_class == "INTERNAL" and run.error_message.startswith("The console's Redis failed")
