"""Defaulting: fields a real API server fills in when the client leaves them out, owned by no field manager."""

from __future__ import annotations

import ipaddress

from tests.kubeemulator.emulator_helpers import APPLY, deployment

CONSOLE = "harbor-console"


def apply(call, name, namespace, body):
    return call(name, namespace, body, field_manager=CONSOLE, force=True, _content_type=APPLY)


def applied_fields(obj) -> dict:
    (entry,) = [e for e in obj.metadata.managed_fields if e.manager == CONSOLE and e.operation == "Apply"]
    return entry.fields_v1


def test_a_deployment_gets_its_strategy_history_and_deadline(apps, namespace):
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": 8080}]
    body["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = {
        "httpGet": {"path": "/", "port": 8080}
    }

    applied = apply(apps.patch_namespaced_deployment, "core", namespace, body)

    spec = applied.spec
    assert (
        spec.strategy.type,
        spec.strategy.rolling_update.max_surge,
        spec.strategy.rolling_update.max_unavailable,
    ) == (
        "RollingUpdate",
        "25%",
        "25%",
    )
    assert (spec.revision_history_limit, spec.progress_deadline_seconds) == (10, 600)
    pod = spec.template.spec
    assert (pod.restart_policy, pod.dns_policy, pod.scheduler_name) == (
        "Always",
        "ClusterFirst",
        "default-scheduler",
    )
    assert pod.termination_grace_period_seconds == 30 and pod.security_context is not None
    (container,) = pod.containers
    assert (container.termination_message_path, container.termination_message_policy) == (
        "/dev/termination-log",
        "File",
    )
    assert container.image_pull_policy == "IfNotPresent"
    assert container.ports[0].protocol == "TCP"
    probe = container.readiness_probe
    assert (
        probe.timeout_seconds,
        probe.period_seconds,
        probe.success_threshold,
        probe.failure_threshold,
    ) == (1, 10, 1, 3)
    assert probe.http_get.scheme == "HTTP"

    owned = applied_fields(applied)["f:spec"]
    assert "f:strategy" not in owned and "f:revisionHistoryLimit" not in owned
    assert "f:dnsPolicy" not in owned["f:template"]["f:spec"]


def test_a_no_op_apply_stays_a_no_op_with_defaults_filled_in(apps, emulator, namespace):
    apply(apps.patch_namespaced_deployment, "core", namespace, deployment())
    settled = apps.read_namespaced_deployment("core", namespace)
    mutations = emulator.stats()["mutations"]

    again = apply(apps.patch_namespaced_deployment, "core", namespace, deployment())

    assert again.metadata.resource_version == settled.metadata.resource_version
    assert emulator.stats()["mutations"] == mutations


def test_a_field_no_longer_applied_gets_its_default_back(apps, namespace):
    body = deployment()
    body["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Always"
    apply(apps.patch_namespaced_deployment, "core", namespace, body)

    again = apply(apps.patch_namespaced_deployment, "core", namespace, deployment())

    assert again.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"


def test_an_untagged_or_latest_image_is_always_pulled(apps, namespace):
    body = deployment()
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "a", "image": "busybox"},
        {"name": "b", "image": "registry.example.com:5000/tools/busybox:latest"},
        {"name": "c", "image": "registry.example.com:5000/tools/busybox:1.36"},
    ]
    created = apps.create_namespaced_deployment(namespace, body)

    assert [c.image_pull_policy for c in created.spec.template.spec.containers] == [
        "Always",
        "Always",
        "IfNotPresent",
    ]


def test_a_service_gets_an_address_and_its_port_defaults(core, namespace):
    service = {
        "metadata": {"name": "core"},
        "spec": {"selector": {"app": "core"}, "ports": [{"name": "http", "port": 80}]},
    }
    headless = {"metadata": {"name": "redis"}, "spec": {"clusterIP": "None", "ports": [{"port": 6379}]}}

    created = core.create_namespaced_service(namespace, service)
    kept = core.create_namespaced_service(namespace, headless)

    spec = created.spec
    assert ipaddress.ip_address(spec.cluster_ip) in ipaddress.ip_network("10.96.0.0/12")
    assert spec.cluster_ips == [spec.cluster_ip]
    assert (spec.type, spec.session_affinity, spec.ip_families, spec.ip_family_policy) == (
        "ClusterIP",
        "None",
        ["IPv4"],
        "SingleStack",
    )
    assert (spec.ports[0].protocol, spec.ports[0].target_port) == ("TCP", 80)
    assert (kept.spec.cluster_ip, kept.spec.cluster_ips) == ("None", ["None"])
    other = core.create_namespaced_service(namespace, {**service, "metadata": {"name": "portal"}})
    assert other.spec.cluster_ip != spec.cluster_ip


def test_a_statefulset_and_its_claim_templates(apps, namespace):
    spec = deployment("redis")["spec"] | {"serviceName": "redis"}
    spec["volumeClaimTemplates"] = [
        {
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
        }
    ]

    created = apps.create_namespaced_stateful_set(namespace, {"metadata": {"name": "redis"}, "spec": spec})

    assert created.spec.pod_management_policy == "OrderedReady"
    assert (created.spec.update_strategy.type, created.spec.update_strategy.rolling_update.partition) == (
        "RollingUpdate",
        0,
    )
    assert created.spec.persistent_volume_claim_retention_policy.when_deleted == "Retain"
    claim = created.spec.volume_claim_templates[0]
    assert (claim.api_version, claim.kind, claim.spec.volume_mode, claim.status.phase) == (
        "v1",
        "PersistentVolumeClaim",
        "Filesystem",
        "Pending",
    )


def test_a_claim_gets_the_default_storage_class_and_a_volume_mode(core, namespace):
    spec = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}

    created = core.create_namespaced_persistent_volume_claim(
        namespace, {"metadata": {"name": "data"}, "spec": spec}
    )

    assert (created.spec.storage_class_name, created.spec.volume_mode) == ("standard", "Filesystem")


def test_a_namespace_and_a_job(core, batch, namespace):
    ns = core.read_namespace(namespace)
    assert ns.metadata.labels["kubernetes.io/metadata.name"] == namespace
    assert ns.spec.finalizers == ["kubernetes"]

    spec = {
        "template": {
            "spec": {"restartPolicy": "Never", "containers": [{"name": "m", "image": "busybox:1.36"}]}
        }
    }
    job = batch.create_namespaced_job(namespace, {"metadata": {"name": "migrate"}, "spec": spec})

    assert (job.spec.backoff_limit, job.spec.completions, job.spec.parallelism, job.spec.completion_mode) == (
        6,
        1,
        1,
        "NonIndexed",
    )
    uid = job.metadata.uid
    assert job.spec.selector.match_labels == {"batch.kubernetes.io/controller-uid": uid}
    assert job.spec.template.metadata.labels["batch.kubernetes.io/job-name"] == "migrate"
