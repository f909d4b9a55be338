"""Namespaces are deleted asynchronously: Terminating while their objects drain, refusing new content meanwhile."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, deployment


def config_map(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def test_a_deleted_namespace_stays_terminating_while_its_content_drains(
    core, apps, emulator, clock, namespace
):
    emulator.namespace_drain_delay = 2
    apps.create_namespaced_deployment(namespace, deployment())
    core.create_namespaced_config_map(namespace, config_map("settings"))

    answer = core.delete_namespace(
        namespace
    )  # the Namespace itself, not a Status: the client leaves it a dict

    assert (answer["status"]["phase"], "deletionTimestamp" in answer["metadata"]) == ("Terminating", True)
    terminating = core.read_namespace(namespace)
    assert terminating.status.phase == "Terminating"
    assert {c.type for c in terminating.status.conditions} >= {"NamespaceContentRemaining"}
    assert [c.metadata.name for c in core.list_namespaced_config_map(namespace).items] == ["settings"]
    assert core.list_namespaced_pod(namespace).items  # the pods run on until drained

    clock.advance(1)
    assert core.read_namespace(namespace).status.phase == "Terminating"
    clock.advance(1)

    with pytest.raises(ApiException) as caught:
        core.read_namespace(namespace)
    assert caught.value.status == 404
    assert emulator.objects(namespace=namespace) == []


def test_new_content_is_refused_while_existing_objects_can_still_be_applied(core, emulator, namespace):
    emulator.namespace_drain_delay = 60
    core.create_namespaced_config_map(namespace, config_map("settings"))
    core.delete_namespace(namespace)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, config_map("new"))
    body = json.loads(caught.value.body or "{}")
    assert (caught.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (
        f'configmaps "new" is forbidden: unable to create new content in namespace {namespace} '
        "because it is being terminated"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "NamespaceTerminating",
            "message": f"namespace {namespace} is being terminated",
            "field": "metadata.namespace",
        }
    ]

    with pytest.raises(ApiException) as created:
        core.patch_namespaced_config_map(
            "new", namespace, config_map("new"), field_manager="m", _content_type=APPLY
        )
    assert created.value.status == 403
    changed = {**config_map("settings"), "data": {"k": "w"}}
    applied = core.patch_namespaced_config_map(
        "settings", namespace, changed, field_manager="m", force=True, _content_type=APPLY
    )
    assert applied.data == {"k": "w"}


def test_deleting_a_terminating_namespace_again_is_a_conflict(core, emulator, namespace):
    emulator.namespace_drain_delay = 60
    core.delete_namespace(namespace)

    with pytest.raises(ApiException) as caught:
        core.delete_namespace(namespace)

    assert caught.value.status == 409
    assert "The system is ensuring all content is removed from this namespace" in (caught.value.body or "")


def test_the_systems_namespaces_may_not_be_deleted(core):
    for name in ("default", "kube-system", "kube-public"):
        with pytest.raises(ApiException) as caught:
            core.delete_namespace(name)
        assert caught.value.status == 403
        assert json.loads(caught.value.body or "{}")["message"] == (
            f'namespaces "{name}" is forbidden: this namespace may not be deleted'
        )
