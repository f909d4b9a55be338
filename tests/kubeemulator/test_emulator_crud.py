"""Create, read, update, patch and their apiserver errors, through the official typed client."""

from __future__ import annotations

import json

import pytest
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import certificate, deployment


def status_of(error: ApiException) -> tuple[int, str]:
    body = json.loads(error.body or "{}")
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == error.status
    return error.status, body["reason"]


def config_map(name: str = "settings", **data: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels={"app": "harbor"}), data=data or {"a": "1"}
    )


def test_create_fills_server_fields(core, namespace):
    created = core.create_namespaced_config_map(namespace, config_map())

    assert created.metadata.uid and created.metadata.creation_timestamp
    assert created.metadata.generation == 1
    assert created.metadata.namespace == namespace
    assert int(created.metadata.resource_version) > 0
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "1"}


def test_resource_versions_come_from_one_global_counter(core, namespace):
    first = core.create_namespaced_config_map(namespace, config_map("one"))
    second = core.create_namespaced_secret(
        namespace, {"metadata": {"name": "two"}, "data": {"k": "dmFsdWU="}}
    )

    assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
    listed = core.list_namespaced_config_map(namespace)
    assert int(listed.metadata.resource_version) >= int(second.metadata.resource_version)


def test_generate_name(core, namespace):
    created = core.create_namespaced_config_map(namespace, {"metadata": {"generateName": "run-"}})

    assert created.metadata.name.startswith("run-") and len(created.metadata.name) == len("run-") + 5


def test_create_twice_is_already_exists(core, namespace):
    core.create_namespaced_config_map(namespace, config_map())
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, config_map())
    assert status_of(caught.value) == (409, "AlreadyExists")


def test_missing_object_is_not_found(core, apps, namespace):
    for call in (
        lambda: core.read_namespaced_config_map("nope", namespace),
        lambda: core.delete_namespaced_config_map("nope", namespace),
        lambda: core.replace_namespaced_config_map("nope", namespace, config_map("nope")),
        lambda: apps.patch_namespaced_deployment("nope", namespace, {"spec": {"replicas": 1}}),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        assert status_of(caught.value) == (404, "NotFound")


def test_create_in_missing_namespace_is_not_found(core):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map("ghost", config_map())
    assert status_of(caught.value) == (404, "NotFound")
    assert json.loads(caught.value.body or "{}")["message"] == 'namespaces "ghost" not found'


def test_replace_with_stale_resource_version_conflicts(core, namespace):
    original = core.create_namespaced_config_map(namespace, config_map())
    original.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("settings", namespace, original)
    assert int(updated.metadata.resource_version) > int(original.metadata.resource_version)

    original.data = {"a": "3"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("settings", namespace, original)
    assert status_of(caught.value) == (409, "Conflict")
    assert core.read_namespaced_config_map("settings", namespace).data == {"a": "2"}


def test_replace_without_change_keeps_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, config_map())
    again = core.replace_namespaced_config_map("settings", namespace, created)

    assert again.metadata.resource_version == created.metadata.resource_version


def test_generation_moves_only_with_the_spec(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    labelled = apps.patch_namespaced_deployment("core", namespace, {"metadata": {"labels": {"tier": "web"}}})
    assert labelled.metadata.generation == 1

    scaled = apps.patch_namespaced_deployment("core", namespace, {"spec": {"replicas": 3}})
    assert scaled.metadata.generation == 2
    assert scaled.spec.replicas == 3


def test_merge_patch_removes_with_null(core, namespace):
    core.create_namespaced_config_map(namespace, config_map(a="1", b="2"))
    patched = core.patch_namespaced_config_map(
        "settings", namespace, {"data": {"a": None, "c": "3"}}, _content_type="application/merge-patch+json"
    )
    assert patched.data == {"b": "2", "c": "3"}


def test_json_patch(core, namespace):
    core.create_namespaced_config_map(namespace, config_map(a="1"))
    patched = core.patch_namespaced_config_map(
        "settings",
        namespace,
        [{"op": "test", "path": "/data/a", "value": "1"}, {"op": "add", "path": "/data/b~1c", "value": "x"}],
        _content_type="application/json-patch+json",
    )
    assert patched.data == {"a": "1", "b/c": "x"}

    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map(
            "settings",
            namespace,
            [{"op": "test", "path": "/data/a", "value": "2"}],
            _content_type="application/json-patch+json",
        )
    assert caught.value.status == 422


def test_strategic_merge_patch_merges_containers_by_name(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    sidecar = {"name": "registryctl", "image": "goharbor/harbor-registryctl:v2.13.0"}
    patched = apps.patch_namespaced_deployment(
        "core", namespace, {"spec": {"template": {"spec": {"containers": [sidecar]}}}}
    )
    assert [c.name for c in patched.spec.template.spec.containers] == ["core", "registryctl"]

    newer = {"name": "core", "image": "goharbor/harbor-core:v2.14.0"}
    gone = {"name": "registryctl", "$patch": "delete"}
    patched = apps.patch_namespaced_deployment(
        "core", namespace, {"spec": {"template": {"spec": {"containers": [newer, gone]}}}}
    )
    assert [(c.name, c.image) for c in patched.spec.template.spec.containers] == [
        ("core", "goharbor/harbor-core:v2.14.0")
    ]


def test_patch_with_stale_resource_version_conflicts(core, namespace):
    core.create_namespaced_config_map(namespace, config_map())
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map(
            "settings", namespace, {"metadata": {"resourceVersion": "1"}, "data": {}}
        )
    assert status_of(caught.value) == (409, "Conflict")


def test_invalid_names_and_labels_are_refused(core, namespace):
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, {"metadata": {"name": "Tenant_A"}})
    assert status_of(caught.value) == (422, "Invalid")
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": "ok", "labels": {"plan": "big plan"}}}
        )
    assert status_of(caught.value) == (422, "Invalid")
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "data": {"k": "not base64!"}})
    assert status_of(caught.value) == (400, "BadRequest")


def test_secret_string_data_is_folded_into_data(core, namespace):
    created = core.create_namespaced_secret(
        namespace, {"metadata": {"name": "s"}, "stringData": {"k": "value"}}
    )
    assert created.data == {"k": "dmFsdWU="} and created.string_data is None


def test_dry_run_stores_nothing(core, namespace):
    answer = core.create_namespaced_config_map(namespace, config_map(), dry_run="All")
    assert answer.metadata.name == "settings"
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("settings", namespace)


def test_cluster_scoped_and_all_namespaces_lists(core):
    for name in ("tenant-a", "tenant-b"):
        core.create_namespace({"metadata": {"name": name}})
        core.create_namespaced_config_map(name, config_map())

    names = [n.metadata.name for n in core.list_namespace().items]
    assert names == sorted(names) and {"tenant-a", "tenant-b", "kube-system"} <= set(names)
    everywhere = core.list_config_map_for_all_namespaces()
    assert [(c.metadata.namespace, c.metadata.name) for c in everywhere.items] == [
        ("tenant-a", "settings"),
        ("tenant-b", "settings"),
    ]


def test_pagination_with_limit_and_continue(core, namespace):
    for index in range(5):
        core.create_namespaced_config_map(namespace, config_map(f"c{index}"))

    first = core.list_namespaced_config_map(namespace, limit=2)
    second = core.list_namespaced_config_map(namespace, limit=2, _continue=first.metadata._continue)
    rest = core.list_namespaced_config_map(namespace, limit=2, _continue=second.metadata._continue)

    names = [c.metadata.name for page in (first, second, rest) for c in page.items]
    assert names == ["c0", "c1", "c2", "c3", "c4"]
    assert rest.metadata._continue is None


def test_custom_resources_through_custom_objects_api(custom, namespace):
    custom.create_namespaced_custom_object(
        "cert-manager.io", "v1", namespace, "certificates", certificate("le")
    )
    listed = custom.list_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates")

    assert [(i["kind"], i["metadata"]["name"]) for i in listed["items"]] == [("Certificate", "tls")]
    with pytest.raises(ApiException) as caught:
        custom.get_namespaced_custom_object("cert-manager.io", "v1", namespace, "issuers", "le")
    assert caught.value.status == 404


def test_create_refuses_a_resource_version(core, namespace):
    created = core.create_namespaced_config_map(namespace, config_map())
    core.delete_namespaced_config_map("settings", namespace)

    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(namespace, created)
    assert status_of(caught.value) == (400, "BadRequest")


def test_a_stopped_emulator_refuses_pooled_connections(core, emulator, namespace):
    core.read_namespace(namespace)
    emulator.stop()

    with pytest.raises(urllib3.exceptions.MaxRetryError):
        core.read_namespace(namespace, _request_timeout=2)


def test_concurrent_writers_get_distinct_resource_versions(emulator, namespace):
    from concurrent.futures import ThreadPoolExecutor

    def create(index):
        with client.ApiClient(emulator.configuration()) as api_client:
            return client.CoreV1Api(api_client).create_namespaced_config_map(
                namespace, config_map(f"c{index}")
            )

    with ThreadPoolExecutor(max_workers=8) as pool:
        created = list(pool.map(create, range(40)))

    versions = {c.metadata.resource_version for c in created}
    assert len(versions) == 40
    assert len(emulator.objects(kind="ConfigMap", namespace=namespace)) == 40
