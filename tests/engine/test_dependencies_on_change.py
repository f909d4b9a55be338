"""A reconcile calls the shared services only when a dependency's desired state changed, or its last check is not
OK or is stale; otherwise it reads the binding rows (issue #15)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.utils import timezone

from provisioning.choices import BindingStatus, Phase, RunStatus, Via
from provisioning.external import dependencies
from provisioning.models import DatabaseBinding, StorageBinding
from provisioning.reconcile import reconcile
from provisioning.services import registries
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


class ServiceCalls:
    """Counts every call the dependency code makes to a provider (PostgreSQL, S3, Redis), by kind and method."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        original = dependencies.provider_for

        def counted(binding: Any) -> Any:
            provider, calls, kind = original(binding), self.calls, binding.KIND

            class Counting:
                def __getattr__(self, name: str) -> Any:
                    method = getattr(provider, name)

                    def call(*args: Any, **kwargs: Any) -> Any:
                        calls[(kind, name)] += 1
                        return method(*args, **kwargs)

                    return call

            return Counting()

        monkeypatch.setattr(dependencies, "provider_for", counted)

    def take(self) -> Counter[tuple[str, str]]:
        taken, self.calls = self.calls, Counter()
        return taken


@pytest.fixture
def calls(monkeypatch):
    return ServiceCalls(monkeypatch)


@pytest.fixture
def registry(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster, plan=factories.plan("s"))
    assert reconcile(registry.pk).phase == Phase.READY
    reconcile(registry.pk)  # the managed Redis is seen Ready by this run's check
    registry.refresh_from_db()
    return registry


def connection_limit(admin_url: str, role: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    assert row is not None
    return int(row[0])


def test_a_no_op_reconcile_calls_no_shared_service(registry, calls):
    outcome = reconcile(registry.pk)

    assert outcome.status == RunStatus.SUCCEEDED and outcome.phase == Phase.READY
    assert calls.take() == Counter()
    database = DatabaseBinding.objects.get(registry=registry)
    assert database.status == BindingStatus.OK and database.provisioned_hash


def test_a_plan_change_provisions_the_database_again(registry, calls, postgres_admin_url):
    database = DatabaseBinding.objects.get(registry=registry)
    before = connection_limit(postgres_admin_url, database.username)
    bigger = factories.plan("l")
    assert bigger.database_connection_limit != registry.plan.database_connection_limit

    registries.update_registry(registry, {"plan": bigger}, actor=None, via=Via.SYSTEM)
    assert reconcile(registry.pk).status == RunStatus.SUCCEEDED

    made = calls.take()
    assert made[("database", "ensure")] == 1 and made[("storage", "ensure")] == 1
    after = connection_limit(postgres_admin_url, database.username)
    assert after == bigger.database_connection_limit != before
    reconcile(registry.pk)
    assert calls.take() == Counter()  # provisioned once for the change, then settled again


def test_a_stale_check_is_checked_again_by_the_reconcile(registry, calls):
    old = timezone.now() - timedelta(seconds=3 * settings.DEPENDENCY_CHECK_INTERVAL_SECONDS)
    StorageBinding.objects.filter(registry=registry).update(last_checked_at=old)

    reconcile(registry.pk)

    made = calls.take()
    assert made[("storage", "check")] == 1 and made[("database", "check")] == 0
    checked = StorageBinding.objects.get(registry=registry).last_checked_at
    assert checked is not None and checked > old


def test_a_problem_found_by_the_periodic_check_is_repaired_by_the_next_reconcile(
    registry, calls, postgres_admin_url
):
    from provisioning.external.tasks import check_registry_dependencies

    database = DatabaseBinding.objects.get(registry=registry)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP ROLE "{database.username}"')  # someone drops the login role behind our back
    check_registry_dependencies(registry.pk)
    assert DatabaseBinding.objects.get(registry=registry).status != BindingStatus.OK
    calls.take()

    assert reconcile(registry.pk).phase == Phase.READY

    assert calls.take()[("database", "ensure")] >= 1
    assert DatabaseBinding.objects.get(registry=registry).status == BindingStatus.OK
