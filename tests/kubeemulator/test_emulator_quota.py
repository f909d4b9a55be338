"""ResourceQuota and LimitRange admission of the pods controllers create (issue #10 point 1, as a real cluster does it).

A refused pod never fails the apply: it lands on the controller. A Deployment gets ``ReplicaFailure=True``
(``FailedCreate``) with the quota message and only the admitted replicas become available; a StatefulSet has fewer
ready replicas and a Warning event. Usage counts every pod that exists, the rollout surge included.
"""

from __future__ import annotations

import json

import pytest
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, deployment


def quota(core, namespace: str, name: str = "compute", **hard: str) -> None:
    hard = {key.replace("_", "."): value for key, value in hard.items()}
    core.create_namespaced_resource_quota(namespace, {"metadata": {"name": name}, "spec": {"hard": hard}})


def sized(name: str = "core", replicas: int = 2, cpu: str = "500m", memory: str = "256Mi", **extra) -> dict:
    body = deployment(name, replicas=replicas)
    container = body["spec"]["template"]["spec"]["containers"][0]
    container["resources"] = {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu, "memory": memory},
    }
    body["spec"].update(extra)
    return body


def apply(apps, body):
    namespace = body["metadata"]["namespace"]
    return apps.patch_namespaced_deployment(
        body["metadata"]["name"],
        namespace,
        body,
        field_manager="harbor-console",
        force=True,
        _content_type=APPLY,
    )


def conditions(obj) -> dict[str, tuple[str, str, str]]:
    return {c.type: (c.status, c.reason, c.message) for c in obj.status.conditions or []}


def pod_names(core, namespace: str) -> list[str]:
    return sorted(p.metadata.name for p in core.list_namespaced_pod(namespace).items)


def warnings(core, namespace: str) -> list[tuple[str, str, str]]:
    events = core.list_namespaced_event(namespace, field_selector="type=Warning").items
    return [(e.involved_object.kind, e.reason, e.message) for e in events]


def test_a_pod_over_the_quota_is_refused_on_the_controller_not_on_the_apply(apps, core, namespace):
    quota(core, namespace, limits_cpu="1200m")

    applied = apply(apps, sized(replicas=3))

    assert applied.metadata.name == "core"  # the apply itself succeeded
    live = apps.read_namespaced_deployment("core", namespace)
    status, reason, message = conditions(live)["ReplicaFailure"]
    replica_set = next(r.metadata.name for r in apps.list_namespaced_replica_set(namespace).items)
    assert (status, reason) == ("True", "FailedCreate")
    assert message == (
        f'pods "{replica_set}-" is forbidden: exceeded quota: compute, '
        "requested: limits.cpu=500m, used: limits.cpu=1, limited: limits.cpu=1200m"
    )
    assert (live.status.replicas, live.status.available_replicas, live.status.unavailable_replicas) == (
        2,
        2,
        1,
    )
    assert conditions(live)["Available"][0] == "False"
    assert len(pod_names(core, namespace)) == 2
    assert ("ReplicaSet", "FailedCreate", f"Error creating: {message}") in warnings(core, namespace)
    used = core.read_namespaced_resource_quota("compute", namespace).status
    assert (used.hard, used.used) == ({"limits.cpu": "1200m"}, {"limits.cpu": "1"})


def test_room_made_in_the_quota_lets_the_controller_go_on(apps, core, namespace):
    quota(core, namespace, pods="1")
    apply(apps, sized(replicas=2))
    assert "ReplicaFailure" in conditions(apps.read_namespaced_deployment("core", namespace))

    core.patch_namespaced_resource_quota("compute", namespace, {"spec": {"hard": {"pods": "2"}}})

    live = apps.read_namespaced_deployment("core", namespace)
    assert "ReplicaFailure" not in conditions(live)
    assert live.status.available_replicas == 2 and len(pod_names(core, namespace)) == 2


def test_a_container_without_a_quotad_resource_is_refused_unless_a_limit_range_supplies_it(
    apps, core, namespace
):
    quota(core, namespace, limits_memory="1Gi", requests_cpu="2")
    apply(apps, deployment(replicas=1))

    message = conditions(apps.read_namespaced_deployment("core", namespace))["ReplicaFailure"][2]
    assert message.endswith(
        "is forbidden: failed quota: compute: must specify limits.memory for: core; requests.cpu for: core"
    )
    assert pod_names(core, namespace) == []

    core.create_namespaced_limit_range(
        namespace,
        {
            "metadata": {"name": "defaults"},
            "spec": {
                "limits": [
                    {"type": "Container", "default": {"memory": "256Mi"}, "defaultRequest": {"cpu": "100m"}}
                ]
            },
        },
    )

    (pod,) = core.list_namespaced_pod(namespace).items
    resources = pod.spec.containers[0].resources
    assert (resources.limits, resources.requests) == ({"memory": "256Mi"}, {"cpu": "100m", "memory": "256Mi"})
    assert pod.metadata.annotations["kubernetes.io/limit-ranger"].startswith("LimitRanger plugin set:")
    assert core.read_namespaced_resource_quota("compute", namespace).status.used == {
        "limits.memory": "256Mi",
        "requests.cpu": "100m",
    }


def test_a_limit_range_maximum_refuses_a_bigger_container(apps, core, namespace):
    core.create_namespaced_limit_range(
        namespace,
        {"metadata": {"name": "bounds"}, "spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}},
    )
    apply(apps, sized(replicas=1, cpu="2"))

    message = conditions(apps.read_namespaced_deployment("core", namespace))["ReplicaFailure"][2]
    assert message.endswith("is forbidden: maximum cpu usage per Container is 1, but limit is 2")


def test_a_rollout_needs_room_for_its_surge(apps, core, namespace):
    quota(core, namespace, limits_cpu="1")  # two pods of 500m fit; a third (the surge) does not
    apply(apps, sized(replicas=2))
    assert apps.read_namespaced_deployment("core", namespace).status.available_replicas == 2

    changed = sized(replicas=2)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "goharbor/harbor-core:v2.14.0"
    apply(apps, changed)

    live = apps.read_namespaced_deployment("core", namespace)
    status, reason, message = conditions(live)["ReplicaFailure"]
    assert (status, reason) == ("True", "FailedCreate") and "exceeded quota: compute" in message
    # maxUnavailable is 25 % of 2, rounded down: 0. The old pods stay; the new one never fits: stuck.
    assert (live.status.updated_replicas, live.status.available_replicas) == (None, 2)
    assert conditions(live)["Progressing"][1] == "ReplicaSetUpdated"
    images = {p.spec.containers[0].image for p in core.list_namespaced_pod(namespace).items}
    assert images == {"goharbor/harbor-core:v2.13.0"}


def test_with_max_unavailable_a_rollout_makes_its_own_room(apps, core, namespace):
    quota(core, namespace, limits_cpu="2")  # four pods of 500m fit, not five
    apply(apps, sized(replicas=4))

    changed = sized(replicas=4)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "goharbor/harbor-core:v2.14.0"
    apply(apps, changed)

    live = apps.read_namespaced_deployment("core", namespace)
    assert (live.status.updated_replicas, live.status.available_replicas) == (4, 4)
    assert "ReplicaFailure" not in conditions(live)
    assert conditions(live)["Progressing"][1] == "NewReplicaSetAvailable"
    images = {p.spec.containers[0].image for p in core.list_namespaced_pod(namespace).items}
    assert images == {"goharbor/harbor-core:v2.14.0"}


def test_init_containers_count_as_the_larger_of_any_of_them_and_the_sum_of_the_app_containers(
    apps, core, namespace
):
    quota(core, namespace, requests_cpu="1")
    body = deployment(replicas=2)
    spec = body["spec"]["template"]["spec"]
    spec["containers"] = [
        {"name": "core", "image": "core:1", "resources": {"requests": {"cpu": "300m"}}},
        {"name": "sidecar", "image": "side:1", "resources": {"requests": {"cpu": "300m"}}},
    ]
    spec["initContainers"] = [
        {"name": "migrate", "image": "core:1", "resources": {"requests": {"cpu": "700m"}}}
    ]

    apply(apps, body)

    message = conditions(apps.read_namespaced_deployment("core", namespace))["ReplicaFailure"][2]
    assert message.endswith("requested: requests.cpu=700m, used: requests.cpu=700m, limited: requests.cpu=1")
    assert core.read_namespaced_resource_quota("compute", namespace).status.used == {"requests.cpu": "700m"}


def test_a_running_job_counts_and_a_finished_one_does_not(batch, core, emulator, clock, namespace):
    emulator.ready_delay = 5
    quota(core, namespace, pods="1")
    job = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        }
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": job})

    assert core.read_namespaced_resource_quota("compute", namespace).status.used == {"pods": "1"}
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_pod(
            namespace, {"metadata": {"name": "extra"}, "spec": job["template"]["spec"]}
        )
    body = json.loads(caught.value.body or "{}")
    assert (caught.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (
        'pods "extra" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1'
    )

    clock.advance(5)
    assert batch.read_namespaced_job("migrate", namespace).status.succeeded == 1
    assert core.read_namespaced_resource_quota("compute", namespace).status.used == {"pods": "0"}
    core.create_namespaced_pod(namespace, {"metadata": {"name": "extra"}, "spec": job["template"]["spec"]})


def test_a_statefulset_over_the_quota_shows_fewer_ready_replicas_and_a_warning(apps, core, namespace):
    quota(core, namespace, pods="1")
    spec = sized("redis", replicas=2)["spec"] | {"serviceName": "redis"}

    apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": "redis"}, "spec": spec})

    status = apps.read_namespaced_stateful_set("redis", namespace).status
    assert (status.replicas, status.ready_replicas) == (1, 1)
    assert not status.conditions
    assert (
        "StatefulSet",
        "FailedCreate",
        'create Pod redis-1 in StatefulSet redis failed error: pods "redis-1" is forbidden: exceeded quota: '
        "compute, requested: pods=1, used: pods=1, limited: pods=1",
    ) in warnings(core, namespace)


def test_claims_count_against_storage_quotas_when_created(core, namespace):
    quota(core, namespace, requests_storage="10Gi", persistentvolumeclaims="5")

    def claim(name: str, size: str) -> dict:
        spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
        return {"metadata": {"name": name}, "spec": spec}

    core.create_namespaced_persistent_volume_claim(namespace, claim("data", "8Gi"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_persistent_volume_claim(namespace, claim("more", "4Gi"))

    assert caught.value.status == 403
    assert json.loads(caught.value.body or "{}")["message"] == (
        'persistentvolumeclaims "more" is forbidden: exceeded quota: compute, requested: requests.storage=4Gi, '
        "used: requests.storage=8Gi, limited: requests.storage=10Gi"
    )
