"""The watcher against the emulated cluster: its cache, the reconciles it asks for, 410 Gone and outages.

The watcher runs in this process (``tests.watch.conftest``); reconcile runs run here too, against the real Redis
cache, so the API server's request counters tell what a run read.
"""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from kubeemulator.faults import FaultRule
from provisioning.choices import ClusterHealth, Phase, RunStatus
from provisioning.health import Health, MetricsReading, verdicts
from provisioning.models import Cluster, Registry
from provisioning.reconcile import reconcile
from provisioning.rendering import RENDERED_KINDS
from provisioning.watch import cache_synced, cached_owned
from provisioning.watch.cache import WatchCache, owned_in
from tests import factories
from tests.engine.helpers import cluster_keys, desired_keys, run_of, someone_else, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster, harbor_version="2.14.4")
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


@pytest.fixture
def watching(registry, start_watcher):
    watcher = start_watcher()
    watcher.wait_synced(registry.cluster)
    return watcher


def cached_keys(registry: Registry) -> set[tuple[str, str, str, str]]:
    cached = cached_owned(registry.cluster_id, registry.pk)
    assert cached is not None, "the cache is not synced"
    return set(owned_in(cached, registry.namespace))


def test_the_cache_holds_what_a_list_finds_and_follows_changes(registry, watching, kube_emulator):
    assert cached_keys(registry) == cluster_keys(kube_emulator, registry) == desired_keys(registry)
    state = WatchCache(registry.cluster_id).sync_state()
    assert set(state) == {kind for _, kind in RENDERED_KINDS}
    assert all(s["resource_version"] for s in state.values())

    with someone_else(kube_emulator) as api:
        client.CoreV1Api(api).delete_namespaced_config_map(f"{registry.name}-portal", registry.namespace)
    gone = ("v1", "ConfigMap", registry.namespace, f"{registry.name}-portal")
    wait_for(lambda: gone not in cached_keys(registry), 10, "the deletion to reach the cache")


def test_a_steady_state_reconcile_reads_nothing_from_the_api_server(registry, watching, kube_emulator):
    kube_emulator.reset_stats()

    outcome = reconcile(registry.pk)

    stats = kube_emulator.stats()
    assert (stats["reads"], stats["writes"]) == (0, 0), stats["by_kind"]
    run = run_of(outcome)
    assert (run.status, run.created, run.updated, run.deleted) == (RunStatus.SUCCEEDED, 0, 0, 0)
    assert run.unchanged == len(desired_keys(registry))


def test_without_a_synced_cache_a_run_lists_as_before(registry, kube_emulator):
    assert not cache_synced(registry.cluster_id)
    kube_emulator.reset_stats()
    reconcile(registry.pk)
    assert kube_emulator.stats()["reads"] > 0


def test_a_deleted_deployment_asks_for_a_reconcile_which_repairs_it_from_the_cache(
    registry, watching, kube_emulator
):
    name = f"{registry.name}-core"
    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).delete_namespaced_deployment(name, registry.namespace)
    wait_for(lambda: registry.pk in watching.sent, 10, "a reconcile of the registry to be asked for")
    assert ("apps/v1", "Deployment", registry.namespace, name) not in cached_keys(registry)

    kube_emulator.reset_stats()
    run = run_of(reconcile(registry.pk))

    assert (run.status, run.created) == (RunStatus.SUCCEEDED, 1)
    read = kube_emulator.stats()["by_kind"]
    assert read == {"Deployment": {"apply": 1, "list": 1}}, read  # the repair, and its status read back
    assert any(
        obj["metadata"]["name"] == name for obj in kube_emulator.objects("Deployment", registry.namespace)
    )


def test_another_writers_edit_asks_for_a_reconcile_and_the_consoles_repair_does_not(
    registry, watching, kube_emulator
):
    name = f"{registry.name}-portal"
    with someone_else(kube_emulator) as api:
        data = client.CoreV1Api(api).read_namespaced_config_map(name, registry.namespace).data or {}
        edited = {next(iter(data)): "edited by hand"}
        client.CoreV1Api(api).patch_namespaced_config_map(name, registry.namespace, {"data": edited})
    wait_for(lambda: registry.pk in watching.sent, 10, "a reconcile of the registry to be asked for")
    watching.sent.clear()
    configmaps = watching.kind(registry.cluster, "ConfigMap")
    key = ("v1", "ConfigMap", registry.namespace, name)
    edited_memo = configmaps.memos[key]

    run = run_of(reconcile(registry.pk))
    assert run.updated == 1
    wait_for(lambda: configmaps.memos[key] != edited_memo, 10, "the repair's echo to reach the watcher")
    time.sleep(0.5)  # longer than the coalescing window: a request would have been sent by now

    assert watching.sent == []


def test_a_broken_component_asks_for_a_reconcile_which_finds_it_degraded(registry, watching, kube_emulator):
    kube_emulator.break_workload(registry.namespace, f"{registry.name}-core", reason="ImagePullBackOff")
    wait_for(lambda: registry.pk in watching.sent, 10, "a reconcile of the registry to be asked for")

    assert reconcile(registry.pk).phase == Phase.DEGRADED


def test_a_version_too_old_for_the_server_makes_the_watcher_list_again(registry, watching, kube_emulator):
    configmaps = watching.kind(registry.cluster, "ConfigMap")
    lists = configmaps.lists
    kube_emulator.faults.add(FaultRule(verbs=frozenset({"watch"}), codes=(503,)))
    kube_emulator.store.watches.close_all()
    wait_for(lambda: not cache_synced(registry.cluster_id), 10, "the cache to stop being trusted")
    name = f"{registry.name}-portal"
    with someone_else(kube_emulator) as api:
        client.CoreV1Api(api).delete_namespaced_config_map(name, registry.namespace)
    with kube_emulator.store.lock:  # the server forgets the history the watch would resume from
        kube_emulator.store.history.clear(kube_emulator.store._revision)
    kube_emulator.faults.clear()

    wait_for(lambda: configmaps.expired and configmaps.lists > lists, 40, "a 410 and a new LIST")
    watching.wait_synced(registry.cluster)
    assert ("v1", "ConfigMap", registry.namespace, name) not in cached_keys(registry)
    wait_for(lambda: registry.pk in watching.sent, 10, "the change missed meanwhile to ask for a reconcile")


def test_a_cluster_outage_makes_it_unreachable_and_its_registries_unknown(registry, watching, kube_emulator):
    cluster = wait_for(
        lambda: Cluster.objects.filter(pk=registry.cluster_id, last_watch_at__isnull=False).first(),
        10,
        "a watch to be recorded",
    )
    assert cluster.health().state == ClusterHealth.HEALTHY
    assert cluster.last_list_at is not None and cluster.api_version

    kube_emulator.stop()

    wait_for(lambda: not cache_synced(registry.cluster_id), 15, "the cache to stop being trusted")
    wait_for(
        lambda: Cluster.objects.get(pk=registry.cluster_id).api_reachable is False,
        15,
        "the outage to be recorded",
    )
    registry = Registry.objects.select_related("cluster").get(pk=registry.pk)
    assert registry.cluster.health().state == ClusterHealth.UNREACHABLE
    verdict = verdicts([registry], MetricsReading("ok"))[registry.pk]
    assert verdict.health == Health.UNKNOWN
    assert "unreachable" in verdict.summary
