"""The engine end to end: a real Celery worker reconciles registries onto the emulated cluster.

Every registry's dependencies are real: the machine's PostgreSQL, and moto's S3; the cache is the managed Redis
rendered into the namespace.
"""

from __future__ import annotations

import pytest
from kubernetes import client

from provisioning.choices import ComponentKind, Phase, ResourceState, RunStatus, RunTrigger, Via
from provisioning.models import IngressBinding, ManagedResource, ReconcileRun, Registry, installation_id
from provisioning.rendering import RENDERED_KINDS
from provisioning.services import registries
from provisioning.tasks import sweep_fleet
from tests import factories
from tests.engine.helpers import (
    cluster_keys,
    desired_keys,
    find_live,
    finished_runs,
    live,
    someone_else,
    wait_for,
    wait_phase,
    wait_run,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(make_emulated_cluster, celery_worker):
    return make_emulated_cluster(queue=celery_worker.queue)


@pytest.fixture
def ready_registry(cluster):
    registry = factories.registry(cluster=cluster, harbor_version="2.14.4")
    return wait_phase(registry, Phase.READY)


def test_a_new_registry_reaches_ready_with_every_object_of_its_stack(ready_registry, kube_emulator):
    registry = ready_registry
    expected = desired_keys(registry)
    assert cluster_keys(kube_emulator, registry) == expected
    kinds = {key[1] for key in expected}
    assert {"Namespace", "Deployment", "StatefulSet", "Ingress", "Certificate", "NetworkPolicy"} <= kinds

    run = finished_runs(registry)[0]
    assert (run.status, run.trigger, run.created, run.deleted) == (
        RunStatus.SUCCEEDED,
        RunTrigger.CREATED,
        len(expected),
        0,
    )
    assert {
        (r.api_version, r.kind, r.namespace, r.name)
        for r in ManagedResource.objects.filter(registry=registry)
    } == expected
    assert registry.deployed_version == "2.14.4"
    assert registry.observed_generation == registry.generation
    assert {c["type"]: c["status"] for c in registry.conditions} == {
        "DependenciesReady": "True",
        "ResourcesApplied": "True",
        "Available": "True",
        "Progressing": "False",
        "Degraded": "False",
    }
    components = {c.kind: c for c in registry.components.all()}
    assert components[ComponentKind.CORE].available and components[ComponentKind.CORE].ready_replicas == 2
    assert components[ComponentKind.REDIS].available
    ingress = IngressBinding.objects.get(registry=registry)
    assert ingress.certificate_ready and ingress.certificate_not_after is not None
    secret_rows = ManagedResource.objects.filter(registry=registry, kind="Secret")
    assert all(set(row.manifest["data"].values()) == {"<redacted>"} for row in secret_rows)


def test_a_second_reconcile_of_a_converged_registry_writes_nothing(ready_registry, kube_emulator):
    kube_emulator.reset_stats()
    run = registries.reconcile_now(ready_registry, actor=None, via=Via.SYSTEM)
    run = wait_run(run.pk)

    stats = kube_emulator.stats()
    assert stats["writes"] == 0 and stats["mutations"] == 0
    assert all(verbs == {"list": 1} for verbs in stats["by_kind"].values()), stats["by_kind"]
    assert set(stats["by_kind"]) == {kind for _, kind in RENDERED_KINDS}
    assert (run.status, run.created, run.updated, run.deleted) == (RunStatus.SUCCEEDED, 0, 0, 0)
    assert run.unchanged == len(desired_keys(ready_registry))
    assert run.actions == []


def test_changes_made_behind_the_consoles_back_are_undone_by_the_next_sweep(ready_registry, kube_emulator):
    registry = ready_registry
    core_name, config_name = f"{registry.name}-core", f"{registry.name}-portal"
    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).patch_namespaced_deployment(
            core_name, registry.namespace, {"spec": {"replicas": 7}}
        )
        client.CoreV1Api(api).delete_namespaced_config_map(config_name, registry.namespace)
        stray = client.V1ConfigMap(
            metadata=client.V1ObjectMeta(
                name="left-behind",
                labels={
                    "app.kubernetes.io/managed-by": "harbor-console",
                    "harbor-console.io/installation": installation_id(),
                    "harbor-console.io/registry-id": str(registry.pk),
                },
            ),
            data={"a": "b"},
        )
        client.CoreV1Api(api).create_namespaced_config_map(registry.namespace, stray)
    before = ReconcileRun.objects.filter(registry=registry).count()

    assert sweep_fleet.apply().get() == 1
    run = wait_for(
        lambda: ReconcileRun.objects.filter(
            registry=registry, trigger=RunTrigger.SWEEP, finished_at__isnull=False
        ).first(),
        what="the sweep's run",
    )

    assert ReconcileRun.objects.filter(registry=registry).count() == before + 1
    assert (run.status, run.created, run.updated, run.deleted) == (RunStatus.SUCCEEDED, 1, 1, 1)
    actions = {(a["action"], a["name"]) for a in run.actions}
    assert actions == {("create", config_name), ("update", core_name), ("delete", "left-behind")}
    assert live(kube_emulator, "Deployment", registry, core_name)["spec"]["replicas"] == 2
    assert find_live(kube_emulator, "ConfigMap", registry, config_name) is not None
    assert cluster_keys(kube_emulator, registry) == desired_keys(registry)
    wait_phase(registry, Phase.READY)


def test_disabling_trivy_removes_its_objects(ready_registry, kube_emulator):
    registry = ready_registry
    trivy = {key for key in cluster_keys(kube_emulator, registry) if key[3].endswith("-trivy")}
    assert {key[1] for key in trivy} >= {"StatefulSet", "Service", "Secret"}

    registries.update_registry(registry, {"trivy_enabled": False}, actor=None, via=Via.SYSTEM)
    changed = Registry.objects.get(pk=registry.pk).generation
    wait_for(
        lambda: (
            Registry.objects.filter(pk=registry.pk, observed_generation=changed).exists()
            and not registry.runs.open().exists()
        ),
        what="the change to be applied",
    )

    remaining = cluster_keys(kube_emulator, registry)
    assert not remaining & trivy
    assert remaining == desired_keys(registry)
    # whichever run carried the change out (the one asked for, or the one a busy lock left it to) removed them
    run = registry.runs.get(status=RunStatus.SUCCEEDED, deleted__gt=0)
    assert run.deleted == len(trivy) and run.generation == changed
    assert not ManagedResource.objects.filter(registry=registry, name__endswith="-trivy").exists()
    assert not registry.components.filter(kind=ComponentKind.TRIVY).exists()
    wait_phase(registry, Phase.READY)


def test_deleting_a_registry_removes_everything_it_owned(ready_registry, kube_emulator):
    registry = ready_registry
    registries.delete(registry, actor=None, via=Via.SYSTEM)
    wait_phase(registry, Phase.DELETED)

    assert cluster_keys(kube_emulator, registry) == set()
    selector = f"harbor-console.io/registry-id={registry.pk}"
    with someone_else(kube_emulator) as api:
        assert client.CoreV1Api(api).list_namespace(label_selector=selector).items == []
    assert not ManagedResource.objects.filter(registry=registry).exists()
    assert registry.database.name and registry.storage.bucket  # data kept until a purge
    assert {c["type"]: c["reason"] for c in registry.conditions}["ResourcesApplied"] == "Deleted"


@pytest.mark.parametrize(
    ("code", "error_class"), [(500, "API_UNAVAILABLE"), (503, "API_UNAVAILABLE"), (409, "API_CONFLICT")]
)
def test_an_api_error_mid_run_is_recorded_and_the_registry_converges_on_retry(
    cluster, kube_emulator, code, error_class
):
    kube_emulator.fail_next(1, code=code, verbs=["apply"], kinds=["Deployment"])
    registry = factories.registry(cluster=cluster)
    wait_phase(registry, Phase.READY)

    failed, retried = finished_runs(registry)[:2]
    assert (failed.status, failed.error_class, failed.whose_move) == (
        RunStatus.FAILED,
        error_class,
        "transient",
    )
    assert f"answered {code}" in failed.error_message and "apply Deployment" in failed.error_message
    assert failed.created > 0 and failed.created == len(
        failed.actions
    )  # objects before the failure were applied
    assert (retried.status, retried.trigger, retried.attempt) == (RunStatus.SUCCEEDED, RunTrigger.RETRY, 2)
    assert retried.created == len(desired_keys(registry)) - failed.created
    assert cluster_keys(kube_emulator, registry) == desired_keys(registry)


def test_a_failed_update_leaves_the_previous_objects_in_place_with_a_readable_condition(
    ready_registry, kube_emulator, settings
):
    registry = ready_registry
    kube_emulator.set_faults(error_rate=1.0, codes=(503,), verbs=["apply"], kinds=["Deployment"])
    registries.update_registry(registry, {"replicas": 3}, actor=None, via=Via.SYSTEM)
    run = wait_for(lambda: registry.runs.filter(trigger=RunTrigger.CHANGED, status=RunStatus.FAILED).first())

    registry.refresh_from_db()
    applied = registry.condition("ResourcesApplied")
    assert (applied["status"], applied["reason"], applied["whose_move"]) == (
        "False",
        "ApiUnavailable",
        "transient",
    )
    assert "503" in applied["message"] and registry.phase == Phase.DEGRADED
    assert live(kube_emulator, "Deployment", registry, f"{registry.name}-core")["spec"]["replicas"] == 2
    assert run.error_class == "API_UNAVAILABLE"
    assert ManagedResource.objects.get(
        registry=registry, kind="Deployment", name=f"{registry.name}-core"
    ).state == (ResourceState.DRIFTED)

    kube_emulator.clear_faults()
    wait_for(lambda: registry.runs.filter(trigger=RunTrigger.RETRY, status=RunStatus.SUCCEEDED).exists())
    assert live(kube_emulator, "Deployment", registry, f"{registry.name}-core")["spec"]["replicas"] == 3
    wait_phase(registry, Phase.READY)
