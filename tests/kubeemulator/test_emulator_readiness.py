"""Simulated readiness: workloads progress, become ready after the delay, or stay broken until healed."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.kubeemulator.emulator_helpers import certificate, deployment


def conditions(obj):
    return {c.type: (c.status, c.reason) for c in obj.status.conditions or []}


def test_with_no_delay_the_next_read_is_ready(apps, namespace):
    created = apps.create_namespaced_deployment(namespace, deployment(replicas=3))
    assert created.status is None

    read = apps.read_namespaced_deployment("core", namespace)

    assert read.status.observed_generation == 1
    assert (read.status.replicas, read.status.ready_replicas, read.status.available_replicas) == (3, 3, 3)
    assert read.status.updated_replicas == 3
    assert conditions(read) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }
    assert int(read.metadata.resource_version) > int(created.metadata.resource_version)
    again = apps.read_namespaced_deployment("core", namespace)
    assert again.metadata.resource_version == read.metadata.resource_version


def test_with_a_delay_workloads_progress_first(apps, emulator, clock, namespace):
    emulator.ready_delay = 3
    apps.create_namespaced_deployment(namespace, deployment())

    progressing = apps.read_namespaced_deployment("core", namespace)
    assert conditions(progressing)["Available"] == ("False", "MinimumReplicasUnavailable")
    assert conditions(progressing)["Progressing"] == ("True", "ReplicaSetUpdated")
    assert progressing.status.available_replicas is None

    clock.advance(3)
    ready = apps.read_namespaced_deployment("core", namespace)
    assert ready.status.available_replicas == 2

    rolled = apps.patch_namespaced_deployment("core", namespace, {"spec": {"replicas": 4}})
    assert rolled.status.observed_generation == 1
    rolling = apps.list_namespaced_deployment(namespace).items[0]
    assert rolling.status.observed_generation == 2
    assert (rolling.status.updated_replicas, rolling.status.ready_replicas) == (4, 2)
    # 2 available of 4 wanted is below 4 - maxUnavailable (25 % of 4 rounded down: 1)
    assert conditions(rolling)["Available"] == ("False", "MinimumReplicasUnavailable")
    assert conditions(rolling)["Progressing"] == ("True", "ReplicaSetUpdated")

    clock.advance(3)
    assert apps.read_namespaced_deployment("core", namespace).status.available_replicas == 4


def test_a_broken_workload_stays_unavailable_until_healed(apps, emulator, namespace):
    emulator.break_workload(namespace, "co*", reason="ImagePullBackOff", message="image not found")
    apps.create_namespaced_deployment(namespace, deployment())

    broken = apps.read_namespaced_deployment("core", namespace)
    assert conditions(broken)["Available"] == ("False", "MinimumReplicasUnavailable")
    available = next(c for c in broken.status.conditions if c.type == "Available")
    assert "ImagePullBackOff: image not found" in available.message
    assert broken.status.available_replicas is None

    assert emulator.heal_workload(namespace, "co*") == 1
    healed = apps.read_namespaced_deployment("core", namespace)
    assert healed.status.available_replicas == 2
    assert conditions(healed)["Available"] == ("True", "MinimumReplicasAvailable")


def test_breaking_a_ready_workload_degrades_it(apps, emulator, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    assert apps.read_namespaced_deployment("core", namespace).status.available_replicas == 2

    emulator.break_workload(namespace, "core", kind="Deployment")

    assert conditions(apps.read_namespaced_deployment("core", namespace))["Available"][0] == "False"


def test_a_client_written_status_is_taken_back_by_the_controller(apps, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    apps.read_namespaced_deployment("core", namespace)

    written = apps.patch_namespaced_deployment_status("core", namespace, {"status": {"readyReplicas": 1}})

    assert written.status.ready_replicas == 1
    assert apps.read_namespaced_deployment("core", namespace).status.ready_replicas == 2


def test_statefulsets_jobs_claims_and_namespaces(batch, core, apps, namespace):
    spec = deployment("redis")["spec"] | {"serviceName": "redis"}
    apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": "redis"}, "spec": spec})
    job = {
        "template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox"}]}}
    }
    batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": job})
    claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}}
    core.create_namespaced_persistent_volume_claim(namespace, {"metadata": {"name": "data"}, "spec": claim})

    redis = apps.read_namespaced_stateful_set("redis", namespace).status
    assert (
        redis.ready_replicas,
        redis.current_replicas,
        redis.updated_replicas,
        redis.available_replicas,
    ) == (
        2,
        2,
        2,
        2,
    )
    done = batch.read_namespaced_job("migrate", namespace).status
    assert done.succeeded == 1
    assert ("Complete", "True") in [(c.type, c.status) for c in done.conditions]
    bound = core.read_namespaced_persistent_volume_claim("data", namespace).status
    assert (bound.phase, bound.capacity) == ("Bound", {"storage": "5Gi"})
    assert core.read_namespace(namespace).status.phase == "Active"


def test_certificates_become_ready_for_ninety_days(custom, emulator, clock, namespace):
    emulator.ready_delay = 1
    custom.create_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates", certificate())

    def read():
        return custom.get_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates", "tls")

    assert read()["status"]["conditions"][0]["status"] == "False"
    clock.advance(1)
    status = read()["status"]
    assert [(c["type"], c["status"]) for c in status["conditions"]] == [("Ready", "True")]
    not_before, not_after = (datetime.fromisoformat(status[k]) for k in ("notBefore", "notAfter"))
    assert not_after - not_before == timedelta(days=90)
    assert not_before < datetime.fromisoformat(status["renewalTime"]) < not_after


def test_a_broken_certificate_carries_the_reason(custom, emulator, namespace):
    emulator.break_workload(
        namespace, "tls", reason="Failed", message="ACME challenge failed", kind="Certificate"
    )
    custom.create_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates", certificate())

    status = custom.get_namespaced_custom_object("cert-manager.io", "v1", namespace, "certificates", "tls")[
        "status"
    ]

    assert status["conditions"][0] | {"lastTransitionTime": None} == {
        "type": "Ready",
        "status": "False",
        "reason": "Failed",
        "message": "ACME challenge failed",
        "observedGeneration": 1,
        "lastTransitionTime": None,
    }
