"""Deciding to write nothing: the desired manifest is held by the live object, under the same spec hash."""

from __future__ import annotations

import base64
import copy
from typing import Any

from provisioning.reconcile.compare import (
    SPEC_HASH_ANNOTATION,
    differences,
    live_hash,
    spec_hash,
    with_spec_hash,
)

DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "r-core", "namespace": "ns", "labels": {"app": "core"}},
    "spec": {
        "replicas": 2,
        "template": {
            "metadata": {"labels": {"app": "core"}},
            "spec": {
                "containers": [
                    {
                        "name": "core",
                        "image": "goharbor/harbor-core:v2.14.4",
                        "resources": {"limits": {"cpu": "0.5", "memory": "1Gi"}},
                        "env": [{"name": "EMPTY", "value": ""}],
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp", "readOnly": False}],
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "securityContext": {},
            },
        },
    },
}


def as_served(manifest: dict) -> dict:
    """What an API server gives back: server metadata, defaulted fields, normalised quantities, status."""
    served = copy.deepcopy(manifest)
    served["metadata"].update(uid="u", resourceVersion="7", generation=1, managedFields=[{"manager": "x"}])
    served["metadata"]["labels"]["kubernetes.io/extra"] = "set-by-server"
    pod = served["spec"]["template"]["spec"]
    pod.pop("securityContext")  # an empty object dropped by the server
    pod["restartPolicy"] = "Always"
    pod["containers"][0]["env"] = [{"name": "EMPTY"}]  # zero values left out: an empty string, a false flag
    pod["containers"][0]["volumeMounts"] = [{"name": "tmp", "mountPath": "/tmp"}]
    container = pod["containers"][0]
    container["imagePullPolicy"] = "IfNotPresent"
    container["terminationMessagePath"] = "/dev/termination-log"
    container["resources"]["limits"] = {"cpu": "500m", "memory": "1073741824"}
    served["spec"]["strategy"] = {"type": "RollingUpdate"}
    served["status"] = {"readyReplicas": 2}
    return served


def test_an_object_as_the_api_server_serves_it_holds_the_desired_manifest():
    desired, _ = with_spec_hash(DEPLOYMENT)
    assert differences(desired, as_served(desired)) == []


def test_changed_values_removed_list_items_and_missing_labels_are_differences():
    desired, _ = with_spec_hash(DEPLOYMENT)
    live = as_served(desired)
    live["spec"]["replicas"] = 7
    live["spec"]["template"]["spec"]["volumes"] = []
    del live["metadata"]["labels"]["app"]
    assert sorted(differences(desired, live)) == [
        "metadata.labels.app",
        "spec.replicas",
        "spec.template.spec.volumes[tmp]",  # a keyed list: the missing entry is named
    ]


def test_a_field_the_console_stopped_setting_is_seen_through_the_spec_hash():
    old, old_hash = with_spec_hash(DEPLOYMENT)
    live = as_served(old)
    new_manifest = copy.deepcopy(DEPLOYMENT)
    del new_manifest["spec"]["template"]["spec"]["volumes"]
    new, new_hash = with_spec_hash(new_manifest)
    assert new_hash != old_hash and live_hash(live) == old_hash
    assert differences(new, live) == [f"metadata.annotations.{SPEC_HASH_ANNOTATION}"]


def test_the_spec_hash_is_stable_and_ignores_key_order():
    reordered = dict(reversed(list(DEPLOYMENT.items())))
    assert spec_hash(reordered) == spec_hash(DEPLOYMENT)
    annotated, digest = with_spec_hash(DEPLOYMENT)
    assert annotated["metadata"]["annotations"][SPEC_HASH_ANNOTATION] == digest
    assert "annotations" not in DEPLOYMENT["metadata"]  # the input is left alone


def test_secret_string_data_is_compared_with_the_served_base64_data():
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "stringData": {"password": "pa55"},
    }
    served: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "data": {"password": base64.b64encode(b"pa55").decode()},
        "type": "Opaque",
    }
    assert differences(secret, served) == []
    served["data"]["password"] = base64.b64encode(b"changed").decode()
    assert differences(secret, served) == ["data.password"]


def test_quantities_only_compare_by_value_where_they_are_quantities():
    desired = {"kind": "ConfigMap", "metadata": {}, "data": {"limits": "0.5"}}
    assert differences(desired, {"kind": "ConfigMap", "metadata": {}, "data": {"limits": "500m"}}) == [
        "data.limits"
    ]
