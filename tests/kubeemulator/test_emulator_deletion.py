"""Deletion: namespaces take their contents along, owners take their dependents along."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import deployment


def owned_config_map(name, *owners):
    references = [
        client.V1OwnerReference(
            api_version="apps/v1", kind="Deployment", name=o.metadata.name, uid=o.metadata.uid
        )
        for o in owners
    ]
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, owner_references=references))


def names(items):
    return sorted(i.metadata.name for i in items)


def test_deleting_an_owner_collects_its_dependents(core, apps, namespace):
    owner = apps.create_namespaced_deployment(namespace, deployment())
    core.create_namespaced_config_map(namespace, owned_config_map("child", owner))
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="free"))
    )

    result = apps.delete_namespaced_deployment("core", namespace)

    assert (result["kind"], result["status"]) == ("Status", "Success")
    assert names(core.list_namespaced_config_map(namespace).items) == ["free"]


def test_a_dependent_with_another_live_owner_survives(core, apps, namespace):
    first = apps.create_namespaced_deployment(namespace, deployment("core"))
    second = apps.create_namespaced_deployment(namespace, deployment("portal"))
    core.create_namespaced_config_map(namespace, owned_config_map("shared", first, second))

    apps.delete_namespaced_deployment("core", namespace)

    shared = core.read_namespaced_config_map("shared", namespace)
    assert [r.name for r in shared.metadata.owner_references] == ["portal"]


def test_orphan_propagation_keeps_dependents(core, apps, namespace):
    owner = apps.create_namespaced_deployment(namespace, deployment())
    core.create_namespaced_config_map(namespace, owned_config_map("child", owner))

    apps.delete_namespaced_deployment("core", namespace, propagation_policy="Orphan")

    assert core.read_namespaced_config_map("child", namespace).metadata.owner_references is None


def test_deleting_a_namespace_deletes_everything_in_it(core, apps, emulator, clock, namespace):
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="tenant-b")))
    apps.create_namespaced_deployment(namespace, deployment())
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a")))
    core.create_namespaced_config_map("tenant-b", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="b")))

    core.delete_namespace(namespace)
    clock.advance(emulator.namespace_drain_delay)

    with pytest.raises(ApiException) as caught:
        core.read_namespace(namespace)
    assert caught.value.status == 404
    assert apps.list_deployment_for_all_namespaces().items == []
    assert [
        (c.metadata.namespace, c.metadata.name) for c in core.list_config_map_for_all_namespaces().items
    ] == [("tenant-b", "b")]


def test_delete_preconditions(core, namespace):
    created = core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="a"))
    )
    stale = client.V1DeleteOptions(preconditions=client.V1Preconditions(resource_version="1"))

    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_config_map("a", namespace, body=stale)
    assert caught.value.status == 409

    fresh = client.V1Preconditions(resource_version=created.metadata.resource_version)
    core.delete_namespaced_config_map("a", namespace, body=client.V1DeleteOptions(preconditions=fresh))
    assert core.list_namespaced_config_map(namespace).items == []


def test_delete_collection_by_label(core, namespace):
    for name, app in (("a", "harbor"), ("b", "harbor"), ("c", "other")):
        labels = {"app": app}
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels))
        )

    core.delete_collection_namespaced_config_map(namespace, label_selector="app=harbor")

    assert names(core.list_namespaced_config_map(namespace).items) == ["c"]
