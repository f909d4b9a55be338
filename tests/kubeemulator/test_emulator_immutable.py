"""Fields a real API server refuses to change: 422 Invalid naming the field, for apply, PUT and patch alike."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, deployment


def refusal(call) -> dict:
    with pytest.raises(ApiException) as caught:
        call()
    body = json.loads(caught.value.body or "{}")
    assert (caught.value.status, body["reason"]) == (422, "Invalid")
    return body


def fields(body: dict) -> list[str]:
    return [cause["field"] for cause in body["details"]["causes"]]


def stateful_set(size: str = "1Gi", storage_class: str | None = None) -> dict:
    spec = deployment("redis")["spec"] | {"serviceName": "redis"}
    claim_spec: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        claim_spec["storageClassName"] = storage_class
    spec["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": claim_spec}]
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "redis"}, "spec": spec}


def apply(apps_call, name, namespace, body, manager="harbor-console"):
    return apps_call(name, namespace, body, field_manager=manager, force=True, _content_type=APPLY)


def test_a_statefulsets_claim_templates_cannot_change_by_apply_put_or_patch(apps, namespace):
    apply(apps.patch_namespaced_stateful_set, "redis", namespace, stateful_set())
    message = (
        'StatefulSet.apps "redis" is invalid: spec: Forbidden: updates to statefulset spec for fields other than '
        "'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', "
        "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
    )

    applied = refusal(
        lambda: apply(apps.patch_namespaced_stateful_set, "redis", namespace, stateful_set(size="2Gi"))
    )
    assert applied["message"] == message and fields(applied) == ["spec"]
    assert applied["details"]["causes"][0]["reason"] == "FieldValueForbidden"

    live = apps.read_namespaced_stateful_set("redis", namespace)
    live.spec.volume_claim_templates[0].spec.storage_class_name = "fast"
    assert (
        refusal(lambda: apps.replace_namespaced_stateful_set("redis", namespace, live))["message"] == message
    )
    patch = {"spec": {"serviceName": "other"}}
    assert (
        refusal(lambda: apps.patch_namespaced_stateful_set("redis", namespace, patch))["message"] == message
    )

    scaled = apps.patch_namespaced_stateful_set("redis", namespace, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3
    assert apps.read_namespaced_stateful_set("redis", namespace).spec.volume_claim_templates[
        0
    ].spec.resources.requests == {"storage": "1Gi"}


def test_a_deployments_selector_is_immutable(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    changed = deployment()
    changed["spec"]["selector"]["matchLabels"]["tier"] = "web"
    changed["spec"]["template"]["metadata"]["labels"]["tier"] = "web"

    body = refusal(lambda: apply(apps.patch_namespaced_deployment, "core", namespace, changed))

    assert body["message"] == (
        'Deployment.apps "core" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"core", "tier":"web"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    )
    assert fields(body) == ["spec.selector"]


def test_a_selector_must_select_its_template(apps, namespace):
    body = deployment()
    body["spec"]["template"]["metadata"]["labels"] = {"app": "other"}

    refused = refusal(lambda: apps.create_namespaced_deployment(namespace, body))

    assert fields(refused) == ["spec.template.metadata.labels"]
    assert "`selector` does not match template `labels`" in refused["message"]


def test_a_jobs_template_is_immutable(batch, namespace):
    spec = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        }
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": spec})

    patch = {"spec": {"template": {"spec": {"containers": [{"name": "m", "image": "busybox:1.37"}]}}}}
    body = refusal(lambda: batch.patch_namespaced_job("migrate", namespace, patch))

    assert fields(body) == ["spec.template"] and body["message"].endswith("field is immutable")


def test_a_services_cluster_ip_may_not_change_once_set_but_may_be_left_out(core, namespace):
    service = {"metadata": {"name": "core"}, "spec": {"selector": {"app": "core"}, "ports": [{"port": 80}]}}
    created = core.create_namespaced_service(namespace, service)
    ip = created.spec.cluster_ip

    body = refusal(
        lambda: core.patch_namespaced_service("core", namespace, {"spec": {"clusterIP": "10.96.9.9"}})
    )
    assert fields(body) == ["spec.clusterIPs[0]"]
    assert body["message"].endswith('Invalid value: []string{"10.96.9.9"}: may not change once set')

    replaced = core.replace_namespaced_service(
        "core",
        namespace,
        {
            "metadata": {"name": "core", "resourceVersion": created.metadata.resource_version},
            "spec": service["spec"],
        },
    )
    assert replaced.spec.cluster_ip == ip


def test_a_claims_spec_is_fixed_but_for_a_larger_request_its_class_allows(core, namespace):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}
    core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "data"}, "spec": spec})

    modes = refusal(
        lambda: core.patch_namespaced_persistent_volume_claim(
            "data", namespace, {"spec": {"accessModes": ["ReadWriteMany"]}}
        )
    )
    assert modes["message"] == (
        'PersistentVolumeClaim "data" is invalid: spec: Forbidden: spec is immutable after creation except '
        "resources.requests and volumeAttributesClassName for bound claims"
    )
    smaller = {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}
    shrunk = refusal(lambda: core.patch_namespaced_persistent_volume_claim("data", namespace, smaller))
    assert fields(shrunk) == ["spec.resources.requests.storage"]

    larger = {"spec": {"resources": {"requests": {"storage": "8Gi"}}}}
    grown = core.patch_namespaced_persistent_volume_claim("data", namespace, larger)
    assert grown.spec.resources.requests == {"storage": "8Gi"}
    assert core.read_namespaced_persistent_volume_claim("data", namespace).status.capacity == {
        "storage": "8Gi"
    }


def test_a_class_without_expansion_refuses_a_larger_claim(core, emulator, namespace):
    storage: Any = client.StorageV1Api(client.ApiClient(emulator.configuration()))
    storage.create_storage_class({"metadata": {"name": "fixed"}, "provisioner": "example.com/disk"})
    spec = {
        "storageClassName": "fixed",
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
    }
    core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "data"}, "spec": spec})

    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_persistent_volume_claim(
            "data", namespace, {"spec": {"resources": {"requests": {"storage": "8Gi"}}}}
        )

    assert caught.value.status == 403
    assert (
        "only dynamically provisioned pvc can be resized" in json.loads(caught.value.body or "{}")["message"]
    )


@pytest.mark.parametrize("kind", ["Secret", "ConfigMap"])
def test_the_data_of_an_immutable_secret_or_config_map_is_fixed(core, namespace, kind):
    create = core.create_namespaced_secret if kind == "Secret" else core.create_namespaced_config_map
    patch = core.patch_namespaced_secret if kind == "Secret" else core.patch_namespaced_config_map
    value = "dmFsdWU=" if kind == "Secret" else "value"
    create(namespace, {"metadata": {"name": "fixed"}, "immutable": True, "data": {"k": value}})

    body = refusal(
        lambda: patch("fixed", namespace, {"data": {"k": value[::-1] if kind == "ConfigMap" else "b3RoZXI="}})
    )
    assert fields(body) == ["data"]
    assert body["message"].endswith("data: Forbidden: field is immutable when `immutable` is set")
    assert fields(refusal(lambda: patch("fixed", namespace, {"immutable": False}))) == ["immutable"]
    patch("fixed", namespace, {"metadata": {"labels": {"still": "editable"}}})
