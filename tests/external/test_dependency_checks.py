"""The periodic dependency check: fanned out per registry on its cluster's queue, broken ones sent to be repaired."""

from __future__ import annotations

import time

import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

from provisioning.choices import BindingStatus, RunStatus, Via, WhoseMove
from provisioning.external.tasks import (
    check_all_dependencies,
    check_registry_dependencies,
    registries_to_check,
)
from provisioning.models import DatabaseBinding, ReconcileRun
from provisioning.services import registries
from tests import factories
from tests.external.conftest import connect_as, fresh, registry_with


def drop_role(admin_url: str, role: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def settle_queued_runs() -> None:
    """The tests have no worker for the creation runs: mark them done, as a worker would have."""
    ReconcileRun.objects.filter(status=RunStatus.QUEUED).update(status=RunStatus.SUCCEEDED)


@pytest.mark.django_db
def test_a_broken_dependency_is_recorded_and_sent_to_reconcile(pg_registry, postgres_admin_url):
    from provisioning.external import prepare_dependencies

    prepare_dependencies(pg_registry)
    settle_queued_runs()
    role = fresh(pg_registry.database).username
    drop_role(postgres_admin_url, role)

    message = check_registry_dependencies(pg_registry.pk)

    database = fresh(pg_registry.database)
    assert database.status == BindingStatus.MISCONFIGURED and database.whose_move == WhoseMove.TRANSIENT
    assert message is not None and f"role {role} no longer exists" in message
    run = ReconcileRun.objects.get(registry=pg_registry, status=RunStatus.QUEUED)
    assert run.operation == "dependency-check"


@pytest.mark.django_db
def test_an_unchanged_healthy_registry_asks_for_nothing(pg_registry):
    from provisioning.external import prepare_dependencies

    prepare_dependencies(pg_registry)
    settle_queued_runs()

    check_registry_dependencies(pg_registry.pk)

    assert not ReconcileRun.objects.filter(registry=pg_registry, status=RunStatus.QUEUED).exists()
    assert fresh(pg_registry.database).last_checked_at is not None


@pytest.mark.django_db
def test_a_recovered_dependency_asks_for_a_reconcile_to_release_the_hold(redis_server):
    from provisioning.choices import CacheMode

    server = redis_server()
    registry = registry_with(cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    cache.host, cache.port, cache.password = server.host, server.port, "wrong"
    cache.save()
    check_registry_dependencies(registry.pk)
    settle_queued_runs()
    cache.password = server.password  # staff enter the right credentials
    cache.save(update_fields=["password"])

    check_registry_dependencies(registry.pk)

    assert fresh(cache).status == BindingStatus.OK
    assert ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).exists()


@pytest.mark.django_db
def test_a_registry_gone_meanwhile_is_tolerated():
    assert check_registry_dependencies(987654321) is None


@pytest.mark.django_db
def test_the_fan_out_puts_one_check_per_live_registry_on_its_clusters_queue():
    queue = f"hc-test-{factories.RUN}-checks"
    cluster = factories.cluster(queue=queue)
    live = [factories.registry(cluster=cluster) for _ in range(3)]
    deleted = factories.registry(cluster=cluster)
    registries.delete(deleted, actor=None, via=Via.SYSTEM)
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(queue)
    try:
        enqueued = check_all_dependencies()

        ours = [pk for pk, q in registries_to_check() if q == queue]
        assert sorted(ours) == sorted(r.pk for r in live)
        assert enqueued >= 3 and broker.llen(queue) == 3
    finally:
        broker.delete(queue)


@pytest.mark.worker
def test_a_real_worker_detects_a_dropped_role_and_the_reconcile_recreates_it(
    postgres_admin_url, celery_worker, make_emulated_cluster
):
    """``postgres_admin_url`` comes first so its cleanup runs after the worker stopped (teardown is reversed)."""
    cluster = make_emulated_cluster(queue=celery_worker.queue)
    registry = factories.registry(cluster=cluster)
    database = wait_for(
        lambda: DatabaseBinding.objects.filter(registry=registry, status=BindingStatus.OK).first()
    )
    wait_for(lambda: not ReconcileRun.objects.filter(registry=registry).open().exists())
    drop_role(postgres_admin_url, database.username)

    check_all_dependencies()

    run = wait_for(
        lambda: ReconcileRun.objects.filter(
            registry=registry,
            operation="dependency-check",
            status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED],
        ).first()
    )
    repaired = fresh(database)
    assert repaired.status == BindingStatus.OK, (run.error_message, celery_worker.log()[-3000:])
    with connect_as(repaired) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (repaired.owner_role,)


def wait_for(probe, timeout: float = 60.0):
    """Poll ``probe`` until it returns something truthy (the worker is another process); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"nothing came after {timeout} s")
