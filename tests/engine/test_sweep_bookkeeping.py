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


WRITES = ("INSERT", "UPDATE", "DELETE")


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(WRITES)]


def test_a_quiet_pass_writes_one_row_the_registry_s(registry, kube_emulator):
    """No per-object or per-binding write on a pass that found everything as recorded: one UPDATE of the
    registry (its time, count and stack read), whatever the size of the stack."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reconcile(registry.pk, trigger=RunTrigger.SWEEP)  # settles what the first runs left to record
    with CaptureQueriesContext(connection) as queries:
        outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    assert outcome.status == RunStatus.SUCCEEDED and outcome.run_id is None
    writes = _writes(queries.captured_queries)
    assert len(writes) == 1 and 'UPDATE "provisioning_registry"' in writes[0], writes


def test_each_object_reads_as_seen_at_the_last_read_of_the_stack(registry, kube_emulator):
    """Rows are not rewritten on a quiet pass, yet each object still there reads as seen at that pass; one found
    gone keeps the last moment it was there."""
    from django.utils import timezone

    from provisioning.choices import ResourceState
    from provisioning.kube import object_key
    from provisioning.models import ManagedResource
    from provisioning.reconcile.resources import record_resources
    from provisioning.reconcile.spec import load_registry

    reconcile(registry.pk, trigger=RunTrigger.SWEEP)
    stored = dict(ManagedResource.objects.filter(registry=registry).values_list("pk", "last_seen_at"))
    reconcile(registry.pk, trigger=RunTrigger.SWEEP)
    read_at = Registry.objects.get(pk=registry.pk).stack_read_at
    rows = list(Registry.objects.get(pk=registry.pk).resources.all())
    assert read_at is not None and rows
    assert {row.pk: row.last_seen_at for row in rows} == stored  # not rewritten
    assert all(row.last_seen == read_at for row in rows)  # yet seen at the last read

    # a run finds the portal's ConfigMap gone and stops before applying
    loaded = load_registry(registry.pk)
    assert loaded is not None
    desired = [row.manifest for row in ManagedResource.objects.filter(registry=registry)]
    portal = ("v1", "ConfigMap", registry.namespace, f"{registry.name}-portal")
    live = {object_key(obj): obj for obj in desired if object_key(obj) != portal}
    record_resources(loaded, desired, live, False, timezone.now())

    gone = ManagedResource.objects.select_related("registry").get(
        registry=registry, kind="ConfigMap", name=portal[3]
    )
    assert gone.state == ResourceState.MISSING
    assert gone.last_seen == gone.last_seen_at == read_at


def test_a_settled_pass_reads_by_key_only_and_an_edit_after_it_is_still_repaired(registry, kube_emulator):
    """Once a pass compared everything and wrote nothing, the next identical pass compares nothing (the digest
    of what it would compare is the same) — but any change on the cluster moves a resourceVersion, so it is seen."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    reconcile(registry.pk, trigger=RunTrigger.SWEEP)
    reconcile(registry.pk, trigger=RunTrigger.SWEEP)
    assert Registry.objects.get(pk=registry.pk).resources_digest
    with CaptureQueriesContext(connection) as queries:
        reconcile(registry.pk, trigger=RunTrigger.SWEEP)
    statements = [q["sql"][:60] for q in queries.captured_queries]
    # the registry with its tenant, plan and cluster; its four bindings, secrets, components; one UPDATE
    assert len(statements) <= 8, statements
    assert not any("provisioning_managedresource" in q["sql"] for q in queries.captured_queries)

    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).patch_namespaced_deployment(
            f"{registry.name}-core", registry.namespace, {"spec": {"replicas": 7}}
        )
    outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)

    assert run_of(outcome).updated == 1
    with someone_else(kube_emulator) as api:
        deployment = client.AppsV1Api(api).read_namespaced_deployment(
            f"{registry.name}-core", registry.namespace
        )
    assert deployment.spec.replicas != 7
