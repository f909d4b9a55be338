"""Whose namespace it is, before anything is written into it: wait for one that terminates, never take one that
belongs to someone else, adopt one an older console made for this registry and prune what it left behind.

Namespaces stay Terminating in the emulator until ``drain_namespace`` (the drain delay is set long), as on a real
cluster while finalizers run.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from provisioning.choices import ErrorClass, Phase, RunStatus, WhoseMove
from provisioning.models import Registry, installation_id
from provisioning.reconcile import reconcile
from provisioning.reconcile.engine import cluster_gateway
from provisioning.rendering.labels import INSTALLATION_LABEL, MANAGED_BY_LABEL, MANAGER, REGISTRY_ID_LABEL
from tests import factories
from tests.engine.helpers import condition, find_live, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


def keep_terminating(kube_emulator) -> None:
    kube_emulator.store.namespace_drain_delay = 3600


def drain(kube_emulator, name: str) -> None:
    with kube_emulator.store.lock:
        kube_emulator.store.drain_namespace(name)


def namespace(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def policy(namespace_name: str, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace_name}
    if labels is not None:
        metadata["labels"] = labels
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata,
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }


def legacy_labels(registry_id: int) -> dict[str, str]:
    return {MANAGED_BY_LABEL: MANAGER, REGISTRY_ID_LABEL: str(registry_id)}


def test_a_namespace_someone_deleted_is_waited_for_then_the_stack_comes_back(emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    keep_terminating(kube_emulator)
    client.CoreV1Api(someone_else(kube_emulator)).delete_namespace(registry.namespace)

    kube_emulator.reset_stats()
    outcome = reconcile(registry.pk)

    run = run_of(outcome)
    assert (run.status, run.error_class, run.whose_move) == (
        RunStatus.FAILED,
        ErrorClass.NAMESPACE_TERMINATING,
        WhoseMove.TRANSIENT,
    )
    assert outcome.should_retry
    assert f"Waiting for namespace {registry.namespace} to finish terminating" in run.error_message
    assert kube_emulator.stats()["writes"] == 0
    registry.refresh_from_db()
    assert "to finish terminating" in condition(registry, "ResourcesApplied")["message"]

    drain(kube_emulator, registry.namespace)
    assert reconcile(registry.pk).phase == Phase.READY


def test_a_new_registry_waits_for_the_terminating_namespace_of_its_name(emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=emulated_cluster)
    keep_terminating(kube_emulator)
    core: Any = client.CoreV1Api(someone_else(kube_emulator))
    ours = {**legacy_labels(registry.pk + 1000), INSTALLATION_LABEL: installation_id()}
    core.create_namespace(namespace(registry.namespace, ours))  # a purged registry's, still draining
    core.delete_namespace(registry.namespace)

    outcome = reconcile(registry.pk)

    assert run_of(outcome).error_class == ErrorClass.NAMESPACE_TERMINATING and outcome.should_retry
    drain(kube_emulator, registry.namespace)
    assert reconcile(registry.pk).phase == Phase.READY


@pytest.mark.parametrize(
    "labels",
    [
        {MANAGED_BY_LABEL: MANAGER, INSTALLATION_LABEL: "other1", REGISTRY_ID_LABEL: "{id}"},
        {MANAGED_BY_LABEL: MANAGER, INSTALLATION_LABEL: "{installation}", REGISTRY_ID_LABEL: "9999"},
        {"team": "payments"},
    ],
    ids=["another-installation", "another-registry", "someone-elses"],
)
def test_a_namespace_that_is_not_this_registrys_is_never_touched(labels, emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=emulated_cluster)
    values = {k: v.format(id=registry.pk, installation=installation_id()) for k, v in labels.items()}
    core: Any = client.CoreV1Api(someone_else(kube_emulator))
    core.create_namespace(namespace(registry.namespace, values))

    kube_emulator.reset_stats()
    outcome = reconcile(registry.pk)

    run = run_of(outcome)
    assert (run.error_class, run.whose_move) == (ErrorClass.NAMESPACE_TAKEN, WhoseMove.PROVIDER)
    assert not outcome.should_retry
    assert f"Namespace {registry.namespace} already exists" in run.error_message
    assert kube_emulator.stats()["writes"] == 0
    after = core.read_namespace(registry.namespace).metadata.labels
    assert after == {**values, "kubernetes.io/metadata.name": registry.namespace}
    assert not kube_emulator.objects(namespace=registry.namespace)


def test_a_namespace_an_older_console_made_is_adopted_and_its_leftovers_pruned(
    emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=emulated_cluster)
    name, instance = registry.namespace, Registry.objects.get(pk=registry.pk).name
    console = cluster_gateway(emulated_cluster)  # the older console wrote with the same field manager
    console.apply(namespace(name, legacy_labels(registry.pk)))
    console.apply(policy(name, f"{instance}-allow-all", legacy_labels(registry.pk)))
    console.apply(policy(name, f"{instance}-deny-all", labels=None))  # unlabelled, its name, its manager only
    kubectl: Any = client.NetworkingV1Api(someone_else(kube_emulator))
    kubectl.create_namespaced_network_policy(name, policy(name, f"{instance}-customer"))
    kubectl.create_namespaced_network_policy(
        name, policy(name, "other-registry", legacy_labels(registry.pk + 1))
    )

    outcome = reconcile(registry.pk)

    assert outcome.phase == Phase.READY, outcome
    labels = kube_emulator.objects("Namespace")
    [adopted] = [ns for ns in labels if ns["metadata"]["name"] == name]
    assert adopted["metadata"]["labels"][INSTALLATION_LABEL] == installation_id()
    assert find_live(kube_emulator, "NetworkPolicy", registry, f"{instance}-allow-all") is None
    assert find_live(kube_emulator, "NetworkPolicy", registry, f"{instance}-deny-all") is None
    assert find_live(kube_emulator, "NetworkPolicy", registry, f"{instance}-customer") is not None
    assert find_live(kube_emulator, "NetworkPolicy", registry, "other-registry") is not None
    pruned = {
        a["name"] for a in run_of(outcome).actions if a.get("detail", "").startswith("left by an older")
    }
    assert pruned == {f"{instance}-allow-all", f"{instance}-deny-all"}

    kube_emulator.reset_stats()
    assert reconcile(registry.pk).phase == Phase.READY
    assert kube_emulator.stats()["writes"] == 0
