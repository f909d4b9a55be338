"""Server-side apply, sent the way the console sends it: the typed client with the apply-patch content type."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, deployment


def apply(apps, body, manager="harbor-console", force=None):
    return apps.patch_namespaced_deployment(
        body["metadata"]["name"],
        body["metadata"]["namespace"],
        body,
        field_manager=manager,
        force=force,
        _content_type=APPLY,
    )


def clients(obj) -> set[str]:
    """The field managers of ``obj`` other than the cluster's own controllers."""
    return {e.manager for e in obj.metadata.managed_fields} - {"kube-controller-manager"}


def test_apply_creates_then_reapplying_changes_nothing(apps, emulator, namespace):
    apply(apps, deployment())
    settled = apps.read_namespaced_deployment("core", namespace)  # the controllers wrote status and revision
    mutations = emulator.stats()["mutations"]

    again = apply(apps, deployment())

    assert again.metadata.resource_version == settled.metadata.resource_version
    assert again.metadata.generation == 1
    assert emulator.stats()["mutations"] == mutations
    assert emulator.stats()["by_verb"]["apply"] == 2


def test_apply_records_the_manager_in_managed_fields(apps, namespace):
    applied = apply(apps, deployment())

    (entry,) = applied.metadata.managed_fields
    assert (entry.manager, entry.operation, entry.fields_type) == ("harbor-console", "Apply", "FieldsV1")
    assert entry.fields_v1["f:spec"]["f:replicas"] == {}
    assert entry.fields_v1["f:metadata"]["f:labels"]["f:app"] == {}


def test_apply_removes_fields_the_manager_no_longer_applies(apps, namespace):
    apply(apps, deployment(tier="web"))
    without_label = apply(apps, deployment())

    assert without_label.metadata.labels == {"app": "core"}
    assert without_label.metadata.generation == 1

    body = deployment(replicas=3)
    apply(apps, body)
    del body["spec"]["replicas"]
    assert apply(apps, body).spec.replicas == 1  # no longer applied: removed, then defaulted again


def test_apply_keeps_fields_owned_by_other_writers(apps, namespace):
    apply(apps, deployment())
    apps.patch_namespaced_deployment("core", namespace, {"metadata": {"annotations": {"note": "by hand"}}})

    reapplied = apply(apps, deployment())

    assert reapplied.metadata.annotations["note"] == "by hand"


def test_a_container_the_manager_stops_applying_is_removed(apps, namespace):
    two = deployment()
    two["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "busybox"})
    apply(apps, two)

    one = apply(apps, deployment())

    assert [c.name for c in one.spec.template.spec.containers] == ["core"]
    assert one.metadata.generation == 2


def test_conflicting_managers_need_force(apps, namespace):
    apply(apps, deployment(replicas=2))
    apps.patch_namespaced_deployment(
        "core", namespace, {"spec": {"replicas": 5}}, field_manager="kubectl-scale"
    )

    with pytest.raises(ApiException) as caught:
        apply(apps, deployment(replicas=2))
    body = json.loads(caught.value.body or "{}")
    assert (caught.value.status, body["reason"]) == (409, "Conflict")
    assert "kubectl-scale" in body["message"] and ".spec.replicas" in body["message"]

    forced = apply(apps, deployment(replicas=2), force=True)
    assert forced.spec.replicas == 2
    assert clients(forced) == {"harbor-console"}


def test_two_appliers_share_equal_values(apps, namespace):
    apply(apps, deployment(replicas=2))
    shared = apply(apps, deployment(replicas=2), manager="other-tool")

    assert clients(shared) == {"harbor-console", "other-tool"}


def test_apply_without_field_manager_is_bad_request(apps, namespace):
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("core", namespace, deployment(), _content_type=APPLY)
    assert caught.value.status == 400


def test_apply_needs_kind_and_matching_name(apps, namespace):
    body = deployment()
    del body["kind"]
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment("core", namespace, body, field_manager="m", _content_type=APPLY)
    assert caught.value.status == 400
    with pytest.raises(ApiException) as caught:
        apps.patch_namespaced_deployment(
            "other", namespace, deployment(), field_manager="m", _content_type=APPLY
        )
    assert caught.value.status == 400


def test_apply_yaml_text_and_dry_run(api, emulator, namespace):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: '1'\n"
    path = f"/api/v1/namespaces/{namespace}/configmaps/settings"
    query = [("fieldManager", "harbor-console"), ("dryRun", "All")]

    def call(query):
        data = api.call_api(
            *api.param_serialize(
                "PATCH", path, query_params=query, header_params={"Content-Type": APPLY}, body=text
            )
        )
        data.read()
        return data.status, json.loads(data.data)

    status, dry = call(query)
    assert status == 201 and dry["data"] == {"a": "1"}
    assert emulator.objects(kind="ConfigMap") == []

    status, _ = call(query[:1])
    assert status == 201 and emulator.objects(kind="ConfigMap")[0]["data"] == {"a": "1"}


def test_apply_through_dynamic_client(dyn, namespace):
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")

    dyn.server_side_apply(deployments, body=deployment(), field_manager="harbor-console")
    first = dyn.get(deployments, name="core", namespace=namespace)
    second = dyn.server_side_apply(deployments, body=deployment(), field_manager="harbor-console")

    assert first.metadata.resourceVersion == second.metadata.resourceVersion


def test_an_applied_empty_object_leaves_other_keys_alone(apps, namespace):
    apply(apps, deployment())
    apps.patch_namespaced_deployment("core", namespace, {"metadata": {"annotations": {"note": "by hand"}}})
    body = deployment()
    body["metadata"]["annotations"] = {}

    applied = apply(apps, body)

    assert applied.metadata.annotations["note"] == "by hand"


def test_reapplying_after_someone_added_to_an_applied_empty_object_changes_nothing(apps, namespace):
    body = deployment()
    body["metadata"]["annotations"] = {}
    apply(apps, body)
    patched = apps.patch_namespaced_deployment(
        "core", namespace, {"metadata": {"annotations": {"note": "x"}}}
    )

    assert apply(apps, body).metadata.resource_version == patched.metadata.resource_version
