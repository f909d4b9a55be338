"""Edits that change a field the API server will not change: carried out safely, or refused with the field named.

Each test first shows the emulator (like kube-apiserver) answering 422 to the plain apply of the new render; then
what the console does instead: a changed claim template re-creates the StatefulSet with ``propagationPolicy=Orphan``
(its claims, the data, stay), a changed selector is refused before anything is sent.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from provisioning.choices import ErrorClass, Phase, RunStatus, Via, WhoseMove
from provisioning.kube import KubeApiError
from provisioning.models import Cluster, Registry
from provisioning.reconcile import reconcile
from provisioning.reconcile.engine import cluster_gateway
from provisioning.reconcile.spec import desired_objects
from provisioning.rendering import labels
from provisioning.services.clusters import save_cluster
from tests import factories
from tests.engine.helpers import condition, live, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


def rendered(registry: Registry, kind: str) -> list[dict[str, Any]]:
    registry = Registry.objects.get(pk=registry.pk)
    return [obj for obj in desired_objects(registry) if obj["kind"] == kind]


def claims(kube_emulator, registry: Registry) -> dict[str, str]:
    """The registry's PersistentVolumeClaims by name, with their uid."""
    return {
        pvc["metadata"]["name"]: pvc["metadata"]["uid"]
        for pvc in kube_emulator.objects("PersistentVolumeClaim", registry.namespace)
    }


def add_storage_class(kube_emulator, name: str) -> None:
    storage: Any = client.StorageV1Api(someone_else(kube_emulator))
    storage.create_storage_class(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": name},
            "provisioner": "x",
        }
    )


def test_changing_the_clusters_storage_class_recreates_the_statefulsets_and_keeps_their_claims(
    emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    kept = claims(kube_emulator, registry)
    assert kept, "the stack has no claims to keep"
    add_storage_class(kube_emulator, "fast")
    cluster = Cluster.objects.get(pk=emulated_cluster.pk)
    cluster.storage_class = "fast"
    save_cluster(cluster, actor=None, via=Via.SYSTEM)
    statefulsets = rendered(registry, "StatefulSet")

    gateway = cluster_gateway(cluster)
    with pytest.raises(KubeApiError) as refused:
        gateway.apply(statefulsets[0])
    assert refused.value.status == 422 and "updates to statefulset spec" in str(refused.value)

    outcome = reconcile(registry.pk)

    assert (outcome.status, outcome.phase) == (RunStatus.SUCCEEDED, Phase.READY), outcome
    recreated = [a for a in run_of(outcome).actions if a["action"] == "recreate"]
    assert {a["name"] for a in recreated} == {obj["metadata"]["name"] for obj in statefulsets}
    for obj in statefulsets:
        now = live(kube_emulator, "StatefulSet", registry, obj["metadata"]["name"])
        assert {t["spec"].get("storageClassName") for t in now["spec"]["volumeClaimTemplates"]} == {"fast"}
    assert claims(kube_emulator, registry) == kept

    kube_emulator.reset_stats()
    again = reconcile(registry.pk)
    assert again.phase == Phase.READY and kube_emulator.stats()["writes"] == 0


def test_a_changed_selector_is_refused_with_the_field_named_and_nothing_is_sent(
    emulated_cluster, kube_emulator, monkeypatch
):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    original = labels.selector_labels

    def wider(spec: Any, component: str) -> dict[str, str]:
        return {**original(spec, component), "tier": "harbor"}

    for module in ("objects", "pods", "availability", "network"):
        monkeypatch.setattr(f"provisioning.rendering.{module}.selector_labels", wider)
    [deployment, *_] = rendered(registry, "Deployment")
    name = deployment["metadata"]["name"]
    before = live(kube_emulator, "Deployment", registry, name)
    with pytest.raises(KubeApiError) as refused:
        cluster_gateway(emulated_cluster).apply(deployment)
    assert refused.value.status == 422 and "selector" in str(refused.value)

    kube_emulator.reset_stats()
    outcome = reconcile(registry.pk)

    run = run_of(outcome)
    assert (run.status, run.error_class, run.whose_move) == (
        RunStatus.FAILED,
        ErrorClass.IMMUTABLE_FIELD,
        WhoseMove.PROVIDER,
    )
    assert not outcome.should_retry
    assert "would change spec.selector" in run.error_message
    by_kind = kube_emulator.stats()["by_kind"]
    assert not any(by_kind.get(kind, {}).get("apply") for kind in ("Deployment", "StatefulSet")), by_kind
    after = live(kube_emulator, "Deployment", registry, name)
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert after["spec"]["selector"] == before["spec"]["selector"]
    registry.refresh_from_db()
    applied = condition(registry, "ResourcesApplied")
    assert applied["status"] == "False" and "would change spec.selector" in applied["message"]
