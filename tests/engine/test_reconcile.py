"""``reconcile()`` in process: states, holds, failures and what each run records."""

from __future__ import annotations

import time

import pytest
from django.db.models import F

from provisioning.choices import (
    ErrorClass,
    Phase,
    ResourceState,
    RunStatus,
    RunTrigger,
    Via,
    WhoseMove,
)
from provisioning.models import Cluster, ManagedResource, ReconcileRun, Registry
from provisioning.reconcile import reconcile
from provisioning.services import registries
from tests import factories
from tests.engine.helpers import cluster_keys, condition, desired_keys, live, run_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster, harbor_version="2.14.4")
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


def workloads(emulator, registry) -> dict[str, int]:
    return {
        obj["metadata"]["name"]: obj["spec"]["replicas"]
        for kind in ("Deployment", "StatefulSet")
        for obj in emulator.objects(kind, registry.namespace)
    }


def test_suspending_scales_every_workload_to_zero_and_resuming_brings_it_back(registry, kube_emulator):
    registries.suspend(registry, actor=None, via=Via.SYSTEM)
    outcome = reconcile(registry.pk)
    assert outcome.phase == Phase.SUSPENDED
    assert set(workloads(kube_emulator, registry).values()) == {0}
    assert cluster_keys(kube_emulator, registry) == desired_keys(registry)  # everything else stays
    registry.refresh_from_db()
    assert condition(registry, "Available")["reason"] == "Suspended"

    registries.resume(registry, actor=None, via=Via.SYSTEM)
    assert reconcile(registry.pk).phase == Phase.READY
    assert workloads(kube_emulator, registry)[f"{registry.name}-core"] == 2


def test_an_upgrade_is_upgrading_until_rolled_out_then_records_the_deployed_version(registry, kube_emulator):
    kube_emulator.ready_delay = 0.6
    # The version changes with nothing staging the components (no step-by-step upgrade open): every workload moves.
    Registry.objects.filter(pk=registry.pk).update(harbor_version="2.15.2", generation=F("generation") + 1)
    outcome = reconcile(registry.pk)
    registry.refresh_from_db()
    assert outcome.phase == Phase.UPGRADING and outcome.follow_up
    assert registry.deployed_version == "2.14.4"
    assert condition(registry, "Progressing")["reason"] == "UpgradeInProgress"
    core = live(kube_emulator, "Deployment", registry, f"{registry.name}-core")
    assert core["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v2.15.2")

    time.sleep(0.7)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    assert registry.deployed_version == "2.15.2"


def test_a_rollout_in_progress_asks_for_a_follow_up(emulated_cluster, kube_emulator):
    kube_emulator.ready_delay = 300
    registry = factories.registry(cluster=emulated_cluster)
    outcome = reconcile(registry.pk)
    assert (outcome.status, outcome.phase, outcome.follow_up) == (
        RunStatus.SUCCEEDED,
        Phase.PROVISIONING,
        True,
    )
    states = set(
        ManagedResource.objects.filter(registry=registry, kind="Deployment").values_list("state", flat=True)
    )
    assert states == {ResourceState.NOT_READY}


def test_a_broken_workload_is_the_providers_move_and_is_not_chased(registry, kube_emulator):
    kube_emulator.break_workload(
        registry.namespace, f"{registry.name}-core", "ImagePullBackOff", "Back-off pulling image"
    )
    registries.update_registry(registry, {"replicas": 3}, actor=None, via=Via.SYSTEM)
    outcome = reconcile(registry.pk)
    registry.refresh_from_db()
    assert outcome.phase == Phase.DEGRADED and not outcome.follow_up
    degraded = condition(registry, "Degraded")
    assert degraded["status"] == "True" and degraded["whose_move"] == WhoseMove.PROVIDER
    assert "Core has 0 of 3 replicas ready" in condition(registry, "Available")["message"]
    assert "ImagePullBackOff" in condition(registry, "Available")["message"]
    core = registry.components.get(kind="core")
    assert not core.available and core.message.startswith("Stalled")


def test_a_new_registry_waits_for_its_dependencies_before_anything_is_applied(
    make_emulated_cluster, kube_emulator
):
    cluster = make_emulated_cluster(database_admin_url="postgres://postgres@127.0.0.1:1/postgres")
    registry = factories.registry(cluster=cluster)
    kube_emulator.reset_stats()

    outcome = reconcile(registry.pk)

    assert outcome.status == RunStatus.FAILED and outcome.should_retry
    assert kube_emulator.stats()["writes"] == 0  # nothing rolled onto a broken dependency
    run = run_of(outcome)
    assert run.error_class == ErrorClass.DEPENDENCY_UNREACHABLE and run.whose_move == WhoseMove.PROVIDER
    registry.refresh_from_db()
    assert registry.phase == Phase.PROVISIONING
    dependencies = condition(registry, "DependenciesReady")
    assert dependencies["status"] == "False" and dependencies["message"].startswith("Database unreachable")
    assert condition(registry, "ResourcesApplied")["reason"] == "HeldForDependencies"


def test_a_dependency_outage_holds_changes_and_the_hold_clears_when_it_recovers(registry, kube_emulator):
    cluster = registry.cluster
    reachable = cluster.database_admin_url
    cluster.database_admin_url = "postgres://postgres@127.0.0.1:1/postgres"  # the database server goes away
    cluster.save(update_fields=["database_admin_url"])
    registries.update_registry(registry, {"replicas": 3}, actor=None, via=Via.SYSTEM)
    kube_emulator.reset_stats()

    held = reconcile(registry.pk)

    assert held.phase == Phase.DEGRADED and held.should_retry
    assert kube_emulator.stats()["writes"] == 0
    assert live(kube_emulator, "Deployment", registry, f"{registry.name}-core")["spec"]["replicas"] == 2
    registry.refresh_from_db()
    degraded = condition(registry, "Degraded")
    assert degraded["status"] == "True" and "Database unreachable" in degraded["message"]

    cluster.database_admin_url = reachable
    cluster.save(update_fields=["database_admin_url"])
    assert reconcile(registry.pk).phase == Phase.READY
    assert live(kube_emulator, "Deployment", registry, f"{registry.name}-core")["spec"]["replicas"] == 3


def test_a_spec_rendering_refuses_is_a_permanent_failure(make_emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=make_emulated_cluster(egress_cidrs=["10.0.0.0/33"]))
    outcome = reconcile(registry.pk)
    assert outcome.status == RunStatus.FAILED and not outcome.should_retry
    assert failure_class(outcome) == ErrorClass.INVALID_SPEC
    assert outcome.phase == Phase.FAILED
    registry.refresh_from_db()
    applied = condition(registry, "ResourcesApplied")
    assert applied["reason"] == "InvalidSpec" and "10.0.0.0/33" in applied["message"]
    assert registry.namespace not in {ns["metadata"]["name"] for ns in kube_emulator.objects("Namespace")}


def test_an_unreachable_cluster_is_transient(emulated_cluster):
    Cluster.objects.filter(pk=emulated_cluster.pk).update(api_url="http://127.0.0.1:1")
    registry = factories.registry(cluster=emulated_cluster)
    outcome = reconcile(registry.pk)
    assert failure_class(outcome) == ErrorClass.CLUSTER_UNREACHABLE and outcome.should_retry


def test_unusable_cluster_credentials_wait_for_a_person(emulated_cluster):
    Cluster.objects.filter(pk=emulated_cluster.pk).update(kubeconfig="clusters: [unclosed")
    registry = factories.registry(cluster=emulated_cluster)
    outcome = reconcile(registry.pk)
    assert failure_class(outcome) == ErrorClass.CLUSTER_UNREACHABLE and not outcome.should_retry
    registry.refresh_from_db()
    assert registry.phase == Phase.FAILED
    applied = condition(registry, "ResourcesApplied")
    assert (
        applied["whose_move"] == WhoseMove.PROVIDER and "kubeconfig is not valid YAML" in applied["message"]
    )


def test_a_finished_run_delivered_again_does_nothing(registry, kube_emulator):
    run = ReconcileRun.objects.filter(registry=registry).latest("pk")
    kube_emulator.reset_stats()
    outcome = reconcile(registry.pk, run.pk)
    assert outcome.run_id == run.pk and kube_emulator.stats()["total"] == 0


def test_a_run_for_a_registry_that_is_gone_is_dropped(emulated_cluster):
    assert reconcile(987654).status == RunStatus.SKIPPED


def test_each_run_records_its_counts_actions_and_resources(registry, kube_emulator):
    registries.update_registry(registry, {"parallel_request_limit": 10}, actor=None, via=Via.SYSTEM)
    outcome = reconcile(registry.pk, trigger=RunTrigger.MANUAL)
    run = run_of(outcome)
    assert (run.created, run.updated, run.deleted) == (0, 1, 0)
    assert run.unchanged == len(desired_keys(registry)) - 1
    assert run.actions == [
        {
            "action": "update",
            "kind": "Ingress",
            "namespace": registry.namespace,
            "name": registry.name,
            "detail": run.actions[0]["detail"],
        }
    ]
    assert "nginx.ingress.kubernetes.io/limit-connections" in run.actions[0]["detail"]
    assert (run.duration_ms or 0) > 0 and run.generation == Registry.objects.get(pk=registry.pk).generation
    ingress = ManagedResource.objects.get(registry=registry, kind="Ingress")
    served = live(kube_emulator, "Ingress", registry, registry.name)
    assert ingress.resource_version == served["metadata"]["resourceVersion"]
    assert (
        ingress.manifest["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-connections"] == "10"
    )


def test_a_deletion_counts_every_object_it_removed_and_then_writes_nothing(registry, kube_emulator):
    owned = ManagedResource.objects.filter(registry=registry).count()
    registries.delete(registry, actor=None, via=Via.SYSTEM)
    outcome = reconcile(registry.pk)
    assert outcome.phase == Phase.DELETED
    assert run_of(outcome).deleted == owned
    kube_emulator.reset_stats()
    assert reconcile(registry.pk).phase == Phase.DELETED
    assert kube_emulator.stats()["writes"] == 0


def failure_class(outcome) -> str:
    assert outcome.failure is not None
    return outcome.failure.error_class
