"""End to end with a real Celery worker: the watcher's requests alone repair drift and report a broken component
(the sweep never runs here), and the worker's runs read the watch cache, not the API server."""

from __future__ import annotations

import pytest
from kubernetes import client

from provisioning.choices import Phase, RunTrigger
from provisioning.models import ReconcileRun
from tests import factories
from tests.engine.helpers import find_live, someone_else, wait_for, wait_phase

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched_registry(make_emulated_cluster, celery_worker, start_watcher):
    cluster = make_emulated_cluster(queue=celery_worker.queue)
    registry = wait_phase(factories.registry(cluster=cluster, harbor_version="2.14.4"), Phase.READY)
    watcher = start_watcher(send_to_workers=True)
    watcher.wait_synced(cluster)
    return registry


def watch_runs(registry) -> int:
    return ReconcileRun.objects.filter(registry=registry, trigger=RunTrigger.WATCH).count()


def test_a_deleted_deployment_is_recreated_by_a_watch_triggered_run(watched_registry, kube_emulator):
    registry = watched_registry
    name = f"{registry.name}-core"
    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).delete_namespaced_deployment(name, registry.namespace)

    wait_for(lambda: find_live(kube_emulator, "Deployment", registry, name), 10, "the Deployment to be back")
    run = wait_for(
        lambda: ReconcileRun.objects.filter(registry=registry, trigger=RunTrigger.WATCH, created=1).first(),
        10,
        "the watch-triggered run to be recorded",
    )
    assert run.actions[0]["name"] == name
    assert not ReconcileRun.objects.filter(registry=registry, trigger=RunTrigger.SWEEP).exists()


def test_a_broken_component_shows_degraded_then_ready_once_healed(watched_registry, kube_emulator):
    registry = watched_registry
    kube_emulator.break_workload(registry.namespace, f"{registry.name}-registry", reason="ImagePullBackOff")

    wait_phase(registry, Phase.DEGRADED, timeout=10)
    assert "ImagePullBackOff" in str(registry.conditions)
    assert watch_runs(registry) >= 1

    kube_emulator.heal_workload(registry.namespace, f"{registry.name}-registry")
    wait_phase(registry, Phase.READY, timeout=10)
