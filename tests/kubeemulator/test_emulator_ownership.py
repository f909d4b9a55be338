"""Server-side apply of lists that merge by key, with ownership per entry (issue #10 point 5's real-world trap).

A ``kubectl edit`` adds an env entry: it is owned by ``kubectl-edit``; the console's forced apply, which does not list
it, leaves it in place; an update (PUT) by the console that omits it removes it. ``managedFields`` says who owns what,
in the fieldsV1 format of a real API server.
"""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, deployment

CONSOLE = "harbor-console"
CONTAINER = 'k:{"name":"core"}'


def with_env(body: dict, *env: tuple[str, str]) -> dict:
    body["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": n, "value": v} for n, v in env]
    return body


def apply(apps, body, manager=CONSOLE, force=True):
    return apps.patch_namespaced_deployment(
        "core", body["metadata"]["namespace"], body, field_manager=manager, force=force, _content_type=APPLY
    )


def env_of(obj) -> list[tuple[str, str]]:
    return [(e.name, e.value) for e in obj.spec.template.spec.containers[0].env or []]


def fields_of(obj, manager: str, operation: str | None = None) -> dict:
    entries = [
        e for e in obj.metadata.managed_fields if e.manager == manager and operation in (None, e.operation)
    ]
    assert len(entries) == 1, [e.manager for e in obj.metadata.managed_fields]
    return entries[0].fields_v1


def env_owned(obj, manager: str) -> set[str]:
    tree = fields_of(obj, manager)
    container = tree["f:spec"]["f:template"]["f:spec"]["f:containers"][CONTAINER]
    return {json.loads(key[2:])["name"] for key in container.get("f:env", {}) if key.startswith("k:")}


def kubectl_edit(apps, namespace: str, env: list[dict]) -> client.V1Deployment:
    """What ``kubectl edit`` sends: a patch of the container list under field manager ``kubectl-edit``."""
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "core", "env": env}]}}}}
    return apps.patch_namespaced_deployment("core", namespace, patch, field_manager="kubectl-edit")


def test_a_foreign_env_entry_survives_a_forced_apply_that_does_not_list_it(apps, namespace):
    apply(apps, with_env(deployment(), ("A", "1")))
    edited = kubectl_edit(apps, namespace, [{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "true"}])
    assert env_owned(edited, "kubectl-edit") == {"DEBUG"}
    assert env_owned(edited, CONSOLE) == {"A"}
    settled = apps.read_namespaced_deployment("core", namespace)  # after the rollout the edit started

    reapplied = apply(apps, with_env(deployment(), ("A", "1")))

    assert env_of(reapplied) == [("A", "1"), ("DEBUG", "true")]
    assert reapplied.metadata.resource_version == settled.metadata.resource_version  # a no-op
    assert env_owned(reapplied, "kubectl-edit") == {"DEBUG"}


@pytest.mark.parametrize("how", ["put", "merge-patch"])
def test_an_entry_added_by_a_put_or_a_merge_patch_is_owned_by_its_writer(apps, namespace, how):
    apply(apps, with_env(deployment(), ("A", "1")))
    live = apps.read_namespaced_deployment("core", namespace)
    env = [client.V1EnvVar(name="A", value="1"), client.V1EnvVar(name="DEBUG", value="true")]
    if how == "put":
        live.spec.template.spec.containers[0].env = env
        edited = apps.replace_namespaced_deployment("core", namespace, live, field_manager="kubectl-edit")
    else:
        containers = apps.api_client.sanitize_for_serialization(live.spec.template.spec.containers)
        containers[0]["env"] = [{"name": "A", "value": "1"}, {"name": "DEBUG", "value": "true"}]
        patch = {"spec": {"template": {"spec": {"containers": containers}}}}
        edited = apps.patch_namespaced_deployment(
            "core",
            namespace,
            patch,
            field_manager="kubectl-edit",
            _content_type="application/merge-patch+json",
        )

    assert env_owned(edited, "kubectl-edit") == {"DEBUG"}
    assert env_of(apply(apps, with_env(deployment(), ("A", "1")))) == [("A", "1"), ("DEBUG", "true")]


def test_an_update_by_the_console_that_omits_the_foreign_entry_removes_it(apps, namespace):
    apply(apps, with_env(deployment(), ("A", "1")))
    kubectl_edit(apps, namespace, [{"name": "DEBUG", "value": "true"}])
    live = apps.read_namespaced_deployment("core", namespace)
    live.spec.template.spec.containers[0].env = [client.V1EnvVar(name="A", value="1")]

    replaced = apps.replace_namespaced_deployment("core", namespace, live, field_manager=CONSOLE)

    assert env_of(replaced) == [("A", "1")]
    assert "kubectl-edit" not in {e.manager for e in replaced.metadata.managed_fields}


def test_applying_a_foreign_entry_takes_its_value_but_shares_the_entry(apps, namespace):
    apply(apps, with_env(deployment(), ("A", "1")))
    kubectl_edit(apps, namespace, [{"name": "DEBUG", "value": "true"}])

    taken = apply(apps, with_env(deployment(), ("A", "1"), ("DEBUG", "false")))
    assert env_of(taken) == [("A", "1"), ("DEBUG", "false")]
    assert env_owned(taken, CONSOLE) == {"A", "DEBUG"}
    assert env_owned(taken, "kubectl-edit") == {"DEBUG"}  # the entry and its name, still co-owned

    dropped = apply(apps, with_env(deployment(), ("A", "1")))
    assert env_of(dropped) == [("A", "1"), ("DEBUG", None)]  # only the value was the console's alone


def test_a_changed_value_of_an_entry_the_console_owns_is_a_conflict_without_force(apps, namespace):
    apply(apps, with_env(deployment(), ("A", "1")))
    kubectl_edit(apps, namespace, [{"name": "A", "value": "2"}])

    with pytest.raises(ApiException) as caught:
        apply(apps, with_env(deployment(), ("A", "1")), force=False)
    body = json.loads(caught.value.body or "{}")
    path = '.spec.template.spec.containers[name="core"].env[name="A"].value'
    assert caught.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"].startswith(
        'Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1'
    )
    assert body["message"].endswith(f": {path}")
    assert body["details"]["causes"][0]["field"] == path
    assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict"

    forced = apply(apps, with_env(deployment(), ("A", "1")))
    assert env_of(forced) == [("A", "1")]


def test_entries_of_other_lists_merge_by_their_keys(apps, namespace):
    body = deployment()
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["ports"] = [{"containerPort": 8080, "name": "http"}]
    container["volumeMounts"] = [{"name": "config", "mountPath": "/etc/core"}]
    body["spec"]["template"]["spec"]["volumes"] = [{"name": "config", "configMap": {"name": "core"}}]
    apply(apps, body)
    sidecar = {"name": "sidecar", "image": "busybox:1.36", "ports": [{"containerPort": 9090}]}
    extra = {"name": "cache", "emptyDir": {}}
    other = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "core", "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [sidecar], "volumes": [extra]}}},
    }
    apply(apps, other, manager="mesh-injector")

    merged = apply(apps, body)

    assert [c.name for c in merged.spec.template.spec.containers] == ["core", "sidecar"]
    assert [v.name for v in merged.spec.template.spec.volumes] == ["config", "cache"]
    tree = fields_of(merged, "mesh-injector")["f:spec"]["f:template"]["f:spec"]
    assert set(tree["f:containers"]) == {'k:{"name":"sidecar"}'}
    ports = tree["f:containers"]['k:{"name":"sidecar"}']["f:ports"]
    assert set(ports) == {'k:{"containerPort":9090,"protocol":"TCP"}'}


def test_managed_fields_use_the_real_fieldsv1_format(apps, namespace):
    body = with_env(deployment(), ("A", "1"))
    body["metadata"]["finalizers"] = ["example.com/keep"]
    applied = apply(apps, body)

    tree = fields_of(applied, CONSOLE, "Apply")
    container = tree["f:spec"]["f:template"]["f:spec"]["f:containers"][CONTAINER]
    assert container == {
        ".": {},
        "f:env": {'k:{"name":"A"}': {".": {}, "f:name": {}, "f:value": {}}},
        "f:image": {},
        "f:name": {},
    }
    assert tree["f:spec"]["f:selector"] == {}  # a label selector is atomic
    assert tree["f:metadata"]["f:finalizers"] == {'v:"example.com/keep"': {}}
    assert "f:imagePullPolicy" not in container  # defaulted by the API server: nobody's


def test_a_create_owns_what_it_sent_and_the_defaults_it_got(apps, namespace):
    created = apps.create_namespaced_deployment(
        namespace, with_env(deployment(), ("A", "1")), field_manager="kubectl-create"
    )

    tree = fields_of(created, "kubectl-create", "Update")
    container = tree["f:spec"]["f:template"]["f:spec"]["f:containers"][CONTAINER]
    assert "f:imagePullPolicy" in container and "f:terminationMessagePath" in container
    assert tree["f:spec"]["f:template"]["f:metadata"]["f:labels"] == {".": {}, "f:app": {}}
