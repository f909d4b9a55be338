"""Drift is read the way server-side apply sees it: from ``metadata.managedFields``, per field manager.

The objects here have the shape a real kube-apiserver serves after ``harbor-console`` applied a Deployment and
other managers wrote to it: ``kubectl edit`` (operation ``Update``, manager ``kubectl-edit``), ``kubectl scale``
(subresource ``scale``), and the Deployment controller (annotations, and ``/status``). Keyed lists (containers and
env by ``name``, ports by ``containerPort`` + ``protocol``) are owned per entry (``k:{...}``), as structured-merge-diff
records them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch

from provisioning.reconcile.compare import (
    REPAIR_APPLY,
    REPAIR_UPDATE,
    compare,
    differences,
    removal_patch,
    with_spec_hash,
)
from provisioning.reconcile.managed_fields import read_ownership

CONSOLE = "harbor-console"
CORE = 'k:{"name":"core"}'

DESIRED: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "r-core", "namespace": "ns", "labels": {"app": "core"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "core"}},
        "template": {
            "metadata": {"labels": {"app": "core"}},
            "spec": {
                "containers": [
                    {
                        "name": "core",
                        "image": "goharbor/harbor-core:v2.14.4",
                        "env": [{"name": "LOG_LEVEL", "value": "info"}, {"name": "PORT", "value": "8080"}],
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    }
                ],
            },
        },
    },
}


def console_fields() -> dict[str, Any]:
    """The ``fieldsV1`` an apiserver records for the console's apply of ``DESIRED`` (annotated with its hash)."""
    return {
        "f:metadata": {"f:annotations": {"f:harbor-console.io/spec-hash": {}}, "f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        CORE: {
                            ".": {},
                            "f:env": {
                                'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}},
                                'k:{"name":"PORT"}': {".": {}, "f:name": {}, "f:value": {}},
                            },
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":8080,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                    "f:name": {},
                                }
                            },
                            "f:resources": {"f:limits": {"f:cpu": {}, "f:memory": {}}},
                        }
                    }
                },
            },
        },
    }


def entry(
    manager: str, fields: dict[str, Any], operation: str = "Update", subresource: str = ""
) -> dict[str, Any]:
    item = {
        "manager": manager,
        "operation": operation,
        "apiVersion": "apps/v1",
        "time": "2026-05-01T12:00:00Z",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
    }
    if subresource:
        item["subresource"] = subresource
    return item


def served(desired: dict[str, Any]) -> dict[str, Any]:
    """``desired`` as an apiserver serves it once applied: defaults, quantities rewritten, ownership, status."""
    live = copy.deepcopy(desired)
    live["metadata"].update(
        uid="4f9c", resourceVersion="1187", generation=1, creationTimestamp="2026-05-01T12:00:00Z"
    )
    live["metadata"]["annotations"] = {
        **live["metadata"].get("annotations", {}),
        "deployment.kubernetes.io/revision": "1",
    }
    spec = live["spec"]
    spec.update(progressDeadlineSeconds=600, revisionHistoryLimit=10)
    spec["strategy"] = {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    pod = spec["template"]["spec"]
    pod.update(dnsPolicy="ClusterFirst", restartPolicy="Always", schedulerName="default-scheduler")
    pod["securityContext"] = {}
    container = pod["containers"][0]
    container.update(imagePullPolicy="IfNotPresent", terminationMessagePath="/dev/termination-log")
    container["ports"][0]["protocol"] = "TCP"
    container["resources"]["limits"]["memory"] = "1073741824"
    live["metadata"]["managedFields"] = [
        entry(CONSOLE, console_fields(), operation="Apply"),
        entry(
            "kube-controller-manager",
            {"f:metadata": {"f:annotations": {".": {}, "f:deployment.kubernetes.io/revision": {}}}},
        ),
        entry(
            "kube-controller-manager",
            {"f:status": {"f:availableReplicas": {}, "f:conditions": {".": {}}, "f:replicas": {}}},
            subresource="status",
        ),
    ]
    live["status"] = {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2}
    return live


def console_entry(live: dict[str, Any]) -> dict[str, Any]:
    return next(e for e in live["metadata"]["managedFields"] if e["manager"] == CONSOLE)["fieldsV1"]


def core_container(live: dict[str, Any]) -> dict[str, Any]:
    return live["spec"]["template"]["spec"]["containers"][0]


def kubectl_edit_adds_env(live: dict[str, Any], name: str = "EXTRA") -> None:
    """``kubectl edit`` appends an env entry: an Update owning that entry only."""
    core_container(live)["env"].append({"name": name, "value": "from-a-person"})
    env: dict[str, Any] = {f'k:{{"name":"{name}"}}': {".": {}, "f:name": {}, "f:value": {}}}
    fields = {"f:spec": {"f:template": {"f:spec": {"f:containers": {CORE: {"f:env": env}}}}}}
    live["metadata"]["managedFields"].append(entry("kubectl-edit", fields))


DESIRED_HASHED, _ = with_spec_hash(DESIRED)


def test_ownership_is_read_per_entry_of_keyed_lists_and_per_field():
    live = served(DESIRED_HASHED)
    kubectl_edit_adds_env(live)
    ownership = read_ownership(live)
    core = (("f", "spec"), ("f", "template"), ("f", "spec"), ("f", "containers"), ("k", {"name": "core"}))

    assert ownership.owners((("f", "spec"), ("f", "replicas"))) == (CONSOLE,)
    assert ownership.owners((*core, ("f", "env"), ("k", {"name": "PORT"}))) == (CONSOLE,)
    assert ownership.owners((*core, ("f", "env"), ("k", {"name": "EXTRA"}))) == ("kubectl-edit",)
    port = (*core, ("f", "ports"), ("k", {"containerPort": 8080, "protocol": "TCP"}), ("f", "name"))
    assert ownership.owners(port) == (CONSOLE,)
    assert ownership.owners((*core, ("f", "ports"), ("k", {"containerPort": 8081, "protocol": "TCP"}))) == ()
    # an atomic field owned whole covers everything inside it
    assert ownership.owners((("f", "spec"), ("f", "selector"), ("f", "matchLabels"), ("f", "app"))) == (
        CONSOLE,
    )
    # the container holds fields of both managers; only the console owns the entry itself
    assert ownership.holders(core) == (CONSOLE, "kubectl-edit")
    assert ownership.owners(core) == (CONSOLE,)
    # /status entries own nothing a comparison looks at
    assert ownership.holders((("f", "status"), ("f", "replicas"))) == ()


def test_set_entries_are_matched_by_value():
    live = {
        "metadata": {
            "finalizers": ["example.com/keep"],
            "managedFields": [
                entry("janitor", {"f:metadata": {"f:finalizers": {".": {}, 'v:"example.com/keep"': {}}}})
            ],
        }
    }
    ownership = read_ownership(live)
    assert ownership.owners((("f", "metadata"), ("f", "finalizers"), ("v", "example.com/keep"))) == (
        "janitor",
    )
    assert ownership.owners((("f", "metadata"), ("f", "finalizers"), ("v", "other"))) == ()


def test_an_object_as_served_after_the_consoles_apply_has_no_drift_and_nothing_foreign():
    comparison = compare(DESIRED_HASHED, served(DESIRED_HASHED), CONSOLE)
    assert comparison.drift == () and comparison.foreign == ()


def test_an_env_entry_added_with_kubectl_edit_is_foreign_not_drift_and_needs_an_update_to_remove():
    live = served(DESIRED_HASHED)
    kubectl_edit_adds_env(live)

    comparison = compare(DESIRED_HASHED, live, CONSOLE)

    assert comparison.drift == () and comparison.to_apply == []
    [change] = comparison.foreign
    assert (change.path, change.managers, change.repair) == (
        "spec.template.spec.containers[core].env[EXTRA]",
        ("kubectl-edit",),
        REPAIR_UPDATE,
    )
    assert change.describe() == "changed by kubectl-edit at spec.template.spec.containers[core].env[EXTRA]"
    assert change.as_record() == {
        "path": "spec.template.spec.containers[core].env[EXTRA]",
        "managers": ["kubectl-edit"],
        "repair": "update",
    }


def test_without_a_field_manager_every_difference_is_drift_as_before():
    live = served(DESIRED_HASHED)
    kubectl_edit_adds_env(live)
    assert differences(DESIRED_HASHED, live) == ["spec.template.spec.containers[core].env[EXTRA]"]


def test_a_value_another_manager_took_is_taken_back_by_a_forced_apply():
    live = served(DESIRED_HASHED)
    live["spec"]["replicas"] = 7  # kubectl scale: ownership of spec.replicas moves to it
    del console_entry(live)["f:spec"]["f:replicas"]
    live["metadata"]["managedFields"].append(
        entry("kubectl", {"f:spec": {"f:replicas": {}}}, subresource="scale")
    )

    comparison = compare(DESIRED_HASHED, live, CONSOLE)

    assert comparison.drift == ()
    [change] = comparison.foreign
    assert (change.path, change.managers, change.repair) == ("spec.replicas", ("kubectl",), REPAIR_APPLY)
    assert comparison.to_apply == ["spec.replicas"]


def test_a_value_the_console_still_owns_that_differs_is_drift():
    live = served(DESIRED_HASHED)
    core_container(live)["image"] = "goharbor/harbor-core:v2.13.0"
    comparison = compare(DESIRED_HASHED, live, CONSOLE)
    assert comparison.drift == ("spec.template.spec.containers[core].image",) and comparison.foreign == ()


def test_a_removed_entry_is_drift_an_apply_restores():
    live = served(DESIRED_HASHED)
    core_container(live)["env"] = [
        core_container(live)["env"][0]
    ]  # kubectl edit removed PORT: nobody owns it
    del console_entry(live)["f:spec"]["f:template"]["f:spec"]["f:containers"][CORE]["f:env"][
        'k:{"name":"PORT"}'
    ]
    comparison = compare(DESIRED_HASHED, live, CONSOLE)
    assert comparison.drift == ("spec.template.spec.containers[core].env[PORT]",)


def test_an_entry_in_a_list_another_manager_owns_whole_is_replaced_by_a_forced_apply():
    """Where the server keeps a list atomic (one owner for the whole list), the console's apply replaces it."""
    live = served(DESIRED_HASHED)
    core_container(live)["env"].append({"name": "EXTRA", "value": "x"})
    fields = console_entry(live)["f:spec"]["f:template"]["f:spec"]["f:containers"][CORE]
    del fields["f:env"]
    live["metadata"]["managedFields"].append(
        entry("kubectl-edit", {"f:spec": {"f:template": {"f:spec": {"f:containers": {CORE: {"f:env": {}}}}}}})
    )

    comparison = compare(DESIRED_HASHED, live, CONSOLE)

    [change] = comparison.foreign
    assert (change.path, change.repair) == ("spec.template.spec.containers[core].env[EXTRA]", REPAIR_APPLY)
    assert comparison.to_apply == ["spec.template.spec.containers[core].env[EXTRA]"]


def test_a_field_added_to_the_consoles_container_by_someone_else_is_reported_and_defaults_are_not():
    live = served(DESIRED_HASHED)
    core_container(live)["securityContext"] = {"privileged": True}
    live["metadata"]["managedFields"].append(
        entry(
            "kubectl-edit",
            {
                "f:spec": {
                    "f:template": {
                        "f:spec": {
                            "f:containers": {CORE: {"f:securityContext": {".": {}, "f:privileged": {}}}}
                        }
                    }
                }
            },
        )
    )
    live["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = "2026-05-01T12:30:00Z"

    comparison = compare(DESIRED_HASHED, live, CONSOLE)

    assert comparison.drift == ()
    assert [(f.path, f.managers, f.repair) for f in comparison.foreign] == [
        ("spec.template.spec.containers[core].securityContext", ("kubectl-edit",), REPAIR_UPDATE)
    ]


def test_keyed_lists_compare_by_key_whatever_the_order():
    live = served(DESIRED_HASHED)
    core_container(live)["env"].reverse()
    assert compare(DESIRED_HASHED, live, CONSOLE).to_apply == []
    assert differences(DESIRED_HASHED, live) == []


def test_the_removal_patch_removes_exactly_the_foreign_entries_and_refuses_a_stale_read():
    live = served(DESIRED_HASHED)
    kubectl_edit_adds_env(live, "EXTRA")
    kubectl_edit_adds_env(live, "MORE")
    comparison = compare(DESIRED_HASHED, live, CONSOLE)
    assert [f.path for f in comparison.left_to_others] == [
        "spec.template.spec.containers[core].env[EXTRA]",
        "spec.template.spec.containers[core].env[MORE]",
    ]

    patch = removal_patch(live, comparison.foreign)

    assert [op["op"] for op in patch] == ["test", "remove", "test", "remove"]
    assert patch[1]["path"] == "/spec/template/spec/containers/0/env/3"  # the later entry first
    repaired = jsonpatch.apply_patch(live, patch)
    assert [e["name"] for e in core_container(repaired)["env"]] == ["LOG_LEVEL", "PORT"]
    moved = copy.deepcopy(live)
    core_container(moved)["env"].insert(0, {"name": "NEW", "value": "y"})  # the list changed after the read
    try:
        jsonpatch.apply_patch(moved, patch)
    except jsonpatch.JsonPatchTestFailed:
        pass
    else:
        raise AssertionError("a patch computed from a stale read must not remove another entry")
    assert removal_patch(repaired, comparison.foreign) == []


def test_service_ports_are_keyed_by_port_and_protocol():
    desired: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "r-core", "namespace": "ns"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}], "selector": {"app": "core"}},
    }
    live = copy.deepcopy(desired)
    live["spec"]["ports"] = [
        {"name": "debug", "port": 9090, "protocol": "TCP", "targetPort": 9090},
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
    ]
    port = json.dumps({"port": 9090, "protocol": "TCP"}, separators=(",", ":"))
    live["metadata"]["managedFields"] = [
        entry(
            CONSOLE, {"f:spec": {"f:ports": {'k:{"port":80,"protocol":"TCP"}': {".": {}}}}}, operation="Apply"
        ),
        entry("kubectl-edit", {"f:spec": {"f:ports": {f"k:{port}": {".": {}, "f:name": {}, "f:port": {}}}}}),
    ]
    [change] = compare(desired, live, CONSOLE).foreign
    assert (change.path, change.repair) == ("spec.ports[9090/TCP]", REPAIR_UPDATE)
