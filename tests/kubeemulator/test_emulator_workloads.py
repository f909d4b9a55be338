"""The simulated controllers make what real ones make: ReplicaSets, pods, claims, TLS Secrets, and events.

Listing a namespace's pods tells the truth about a workload: its status is computed from the pods that exist.
"""

from __future__ import annotations

import pytest
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import APPLY, certificate, deployment


def pods(core, namespace: str, selector: str = "") -> list:
    return sorted(
        core.list_namespaced_pod(namespace, label_selector=selector).items, key=lambda p: p.metadata.name
    )


def ready(pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def conditions(obj) -> dict[str, tuple[str, str]]:
    return {c.type: (c.status, c.reason) for c in obj.status.conditions or []}


def new_image(body: dict, image: str = "goharbor/harbor-core:v2.14.0") -> dict:
    body["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return body


def test_a_deployment_runs_pods_through_a_replica_set(apps, core, namespace):
    created = apps.create_namespaced_deployment(namespace, deployment(replicas=3))

    (replica_set,) = apps.list_namespaced_replica_set(namespace).items
    digest = replica_set.metadata.labels["pod-template-hash"]
    assert replica_set.metadata.name == f"core-{digest}"
    assert replica_set.metadata.owner_references[0].uid == created.metadata.uid
    assert replica_set.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    running = pods(core, namespace, "app=core")
    assert len(running) == 3 and all(ready(p) and p.status.phase == "Running" for p in running)
    assert all(p.metadata.name.startswith(f"core-{digest}-") for p in running)
    assert {p.metadata.owner_references[0].name for p in running} == {replica_set.metadata.name}
    assert all(p.spec.node_name and p.status.pod_ip for p in running)
    live = apps.read_namespaced_deployment("core", namespace)
    assert live.metadata.annotations["deployment.kubernetes.io/revision"] == "1"
    assert (live.status.replicas, live.status.ready_replicas) == (3, 3)


def test_a_rolling_update_surges_then_replaces_every_pod(apps, core, emulator, clock, namespace):
    apps.create_namespaced_deployment(namespace, deployment(replicas=4))
    emulator.ready_delay = 5

    apps.patch_namespaced_deployment("core", namespace, new_image(deployment(replicas=4)))

    during = pods(core, namespace)
    assert len(during) == 5  # replicas + maxSurge (25 % of 4, rounded up: 1)
    rolling = apps.read_namespaced_deployment("core", namespace)
    assert (rolling.status.updated_replicas, rolling.status.available_replicas) == (2, 3)
    assert conditions(rolling)["Progressing"] == ("True", "ReplicaSetUpdated")

    clock.advance(5)

    done = apps.read_namespaced_deployment("core", namespace)
    assert (done.status.updated_replicas, done.status.available_replicas, done.status.replicas) == (4, 4, 4)
    assert conditions(done)["Progressing"] == ("True", "NewReplicaSetAvailable")
    assert {p.spec.containers[0].image for p in pods(core, namespace)} == {"goharbor/harbor-core:v2.14.0"}
    replica_sets = {
        rs.metadata.annotations["deployment.kubernetes.io/revision"]: rs.spec.replicas
        for rs in apps.list_namespaced_replica_set(namespace).items
    }
    assert replica_sets == {"1": 0, "2": 4}
    assert done.metadata.annotations["deployment.kubernetes.io/revision"] == "2"


def test_recreate_removes_the_old_pods_first(apps, core, namespace):
    body = deployment(replicas=2)
    body["spec"]["strategy"] = {"type": "Recreate"}
    apps.create_namespaced_deployment(namespace, body)
    old = {p.metadata.name for p in pods(core, namespace)}

    apps.patch_namespaced_deployment("core", namespace, new_image(body))

    now = {p.metadata.name for p in pods(core, namespace)}
    assert len(now) == 2 and not now & old


def test_a_deleted_pod_is_replaced_and_a_deleted_deployment_takes_everything_along(apps, core, namespace):
    apps.create_namespaced_deployment(namespace, deployment(replicas=2))
    victim = pods(core, namespace)[0].metadata.name

    core.delete_namespaced_pod(victim, namespace)

    after = [p.metadata.name for p in pods(core, namespace)]
    assert len(after) == 2 and victim not in after
    apps.delete_namespaced_deployment("core", namespace)
    assert pods(core, namespace) == [] and apps.list_namespaced_replica_set(namespace).items == []


def test_a_broken_workloads_pods_say_why(apps, core, emulator, namespace):
    emulator.break_workload(namespace, "core", reason="ImagePullBackOff", message="Back-off pulling image")
    apps.create_namespaced_deployment(namespace, deployment(replicas=1))

    (pod,) = pods(core, namespace)
    waiting = pod.status.container_statuses[0].state.waiting
    assert (pod.status.phase, ready(pod)) == ("Pending", False)
    assert (waiting.reason, waiting.message) == ("ImagePullBackOff", "Back-off pulling image")
    assert conditions(apps.read_namespaced_deployment("core", namespace))["Progressing"] == (
        "False",
        "ProgressDeadlineExceeded",
    )


def test_a_rollout_that_stops_moving_exceeds_its_progress_deadline(apps, emulator, clock, namespace):
    emulator.ready_delay = 10_000
    body = deployment(replicas=1)
    body["spec"]["progressDeadlineSeconds"] = 60
    apps.create_namespaced_deployment(namespace, body)
    assert conditions(apps.read_namespaced_deployment("core", namespace))["Progressing"][0] == "True"

    clock.advance(61)

    assert conditions(apps.read_namespaced_deployment("core", namespace))["Progressing"] == (
        "False",
        "ProgressDeadlineExceeded",
    )


def statefulset(storage_class: str | None = None) -> dict:
    spec = deployment("redis", replicas=2)["spec"] | {"serviceName": "redis"}
    claim: dict = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    if storage_class:
        claim["storageClassName"] = storage_class
    spec["volumeClaimTemplates"] = [{"metadata": {"name": "data", "labels": {"app": "redis"}}, "spec": claim}]
    return {"metadata": {"name": "redis"}, "spec": spec}


def test_a_statefulset_makes_ordered_pods_and_their_claims(apps, core, namespace):
    apps.create_namespaced_stateful_set(namespace, statefulset())

    running = pods(core, namespace)
    assert [p.metadata.name for p in running] == ["redis-0", "redis-1"] and all(ready(p) for p in running)
    assert running[0].spec.volumes[-1].persistent_volume_claim.claim_name == "data-redis-0"
    claims = core.list_namespaced_persistent_volume_claim(namespace).items
    assert [(c.metadata.name, c.status.phase, c.spec.storage_class_name) for c in claims] == [
        ("data-redis-0", "Bound", "standard"),
        ("data-redis-1", "Bound", "standard"),
    ]
    assert claims[0].spec.volume_name == f"pvc-{claims[0].metadata.uid}"

    apps.delete_namespaced_stateful_set("redis", namespace)
    assert pods(core, namespace) == []
    assert len(core.list_namespaced_persistent_volume_claim(namespace).items) == 2  # claims are retained


def test_a_claim_of_a_missing_storage_class_stays_pending_and_so_does_its_pod(apps, core, namespace):
    apps.create_namespaced_stateful_set(namespace, statefulset(storage_class="fast"))

    (pod,) = pods(core, namespace)  # ordered: redis-1 waits for redis-0
    assert (pod.metadata.name, pod.status.phase) == ("redis-0", "Pending")
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    assert "unbound immediate PersistentVolumeClaims" in scheduled.message
    assert core.read_namespaced_persistent_volume_claim("data-redis-0", namespace).status.phase == "Pending"
    events = core.list_namespaced_event(namespace, field_selector="reason=ProvisioningFailed").items
    assert events[0].message == 'storageclass.storage.k8s.io "fast" not found'
    assert apps.read_namespaced_stateful_set("redis", namespace).status.ready_replicas is None


def test_a_jobs_pod_runs_to_completion(batch, core, emulator, clock, namespace):
    emulator.ready_delay = 3
    spec = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        }
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": spec})

    (pod,) = pods(core, namespace, "batch.kubernetes.io/job-name=migrate")
    assert (
        pod.status.phase == "Running" and batch.read_namespaced_job("migrate", namespace).status.active == 1
    )

    clock.advance(3)

    (pod,) = pods(core, namespace)
    assert pod.status.phase == "Succeeded"
    job = batch.read_namespaced_job("migrate", namespace)
    assert (job.status.succeeded, job.status.active) == (1, None)
    assert ("Complete", "True") in [(c.type, c.status) for c in job.status.conditions]


def test_a_broken_job_fails_after_its_backoff_limit(batch, core, emulator, namespace):
    emulator.break_workload(namespace, "migrate", reason="Error", message="exit code 1", kind="Job")
    spec = {
        "backoffLimit": 2,
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        },
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": spec})

    failed = pods(core, namespace)
    assert len(failed) == 3 and {p.status.phase for p in failed} == {"Failed"}
    job = batch.read_namespaced_job("migrate", namespace)
    assert job.status.failed == 3
    assert ("Failed", "True", "BackoffLimitExceeded") in [
        (c.type, c.status, c.reason) for c in job.status.conditions
    ]


def test_a_job_deleted_without_a_policy_orphans_its_pods(batch, core, namespace):
    spec = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        }
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": spec})

    batch.delete_namespaced_job("migrate", namespace)

    (orphan,) = pods(core, namespace)
    assert orphan.metadata.owner_references is None


def test_an_issued_certificate_writes_its_tls_secret(custom, core, namespace):
    custom.create_namespaced_custom_object(
        "cert-manager.io", "v1", namespace, "certificates", certificate("letsencrypt")
    )

    secret = core.read_namespaced_secret("tls", namespace)
    assert secret.type == "kubernetes.io/tls" and set(secret.data) == {"tls.crt", "tls.key"}
    assert secret.metadata.annotations["cert-manager.io/certificate-name"] == "tls"


def test_a_certificate_of_a_missing_issuer_is_never_issued(custom, core, namespace):
    custom.create_namespaced_custom_object(
        "cert-manager.io", "v1", namespace, "certificates", certificate("nope")
    )

    status = custom.get_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates", "tls")[
        "status"
    ]
    assert ("Ready", "False") in [(c["type"], c["status"]) for c in status["conditions"]]
    with pytest.raises(ApiException):
        core.read_namespaced_secret("tls", namespace)
    (event,) = core.list_namespaced_event(namespace, field_selector="reason=IssuerNotFound").items
    assert (
        event.message
        == 'Referenced "ClusterIssuer" not found: clusterissuer.cert-manager.io "nope" not found'
    )


def test_controllers_writes_are_not_the_clients_mutations(apps, emulator, namespace):
    emulator.reset_stats()
    apps.patch_namespaced_deployment(
        "core", namespace, deployment(), field_manager="harbor-console", _content_type=APPLY
    )

    stats = emulator.stats()
    assert stats["mutations"] == 1 and stats["controller_updates"] > 3
