"""A sweep's run is kept in the history only when it did something; a quiet one is counted on its registry, with
the time it was last checked (issue #15)."""

from __future__ import annotations

import pytest
from kubernetes import client

from provisioning.choices import Phase, RunStatus, RunTrigger
from provisioning.models import ReconcileRun, Registry
from provisioning.reconcile import reconcile
from provisioning.tasks import reconcile_batch
from tests import factories
from tests.engine.helpers import run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


def test_a_quiet_sweep_run_leaves_no_row_and_is_counted_with_its_time(registry, kube_emulator):
    runs = ReconcileRun.objects.filter(registry=registry).count()
    checked = Registry.objects.get(pk=registry.pk).last_reconciled_at
    kube_emulator.reset_stats()

    outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    assert outcome.status == RunStatus.SUCCEEDED and outcome.run_id is None
    assert kube_emulator.stats()["writes"] == 0
    assert ReconcileRun.objects.filter(registry=registry).count() == runs
    after = Registry.objects.get(pk=registry.pk)
    assert after.quiet_runs == 1 and after.last_reconciled_at is not None
    assert checked is not None and after.last_reconciled_at > checked


def test_a_sweep_run_that_repairs_drift_is_recorded(registry, kube_emulator):
    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).patch_namespaced_deployment(
            f"{registry.name}-core", registry.namespace, {"spec": {"replicas": 7}}
        )

    outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    run = run_of(outcome)
    assert (run.trigger, run.status, run.updated) == (RunTrigger.SWEEP, RunStatus.SUCCEEDED, 1)
    assert Registry.objects.get(pk=registry.pk).quiet_runs == 0


def test_a_failing_sweep_run_is_recorded(registry, kube_emulator):
    cluster = registry.cluster
    cluster.api_url = "http://127.0.0.1:1"
    cluster.save(update_fields=["api_url"])

    outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    assert outcome.status == RunStatus.FAILED
    assert run_of(outcome).error_class


def test_a_batch_reconciles_each_registry_even_when_one_is_gone(registry, kube_emulator):
    assert reconcile_batch([987654, registry.pk]) == 2
    assert Registry.objects.get(pk=registry.pk).quiet_runs == 1


def test_a_sweep_run_that_provisions_a_dependency_again_is_recorded(registry, kube_emulator):
    from provisioning.models import DatabaseBinding

    DatabaseBinding.objects.filter(registry=registry).update(provisioned_hash="")  # as after the upgrade

    outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    assert run_of(outcome).status == RunStatus.SUCCEEDED
    assert DatabaseBinding.objects.get(registry=registry).provisioned_hash
