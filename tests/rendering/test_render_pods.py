"""Workloads: Pod Security ``restricted``, probes and ports from HARBOR.md, scheduling, config wiring."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.rendering import render_stack
from tests.rendering.specs import MANAGED_CACHE, SWIFT, build_spec, secret_values

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def _workloads(**overrides: Any) -> dict[str, dict[str, Any]]:
    objects = render_stack(build_spec(cache=MANAGED_CACHE, **overrides))
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] in WORKLOAD_KINDS}


def _containers(workload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in workload["spec"]["template"]["spec"]["containers"]}


def test_every_pod_meets_pod_security_restricted() -> None:
    for workload in _workloads().values():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for volume in pod.get("volumes", []):
            assert set(volume) & {"configMap", "secret", "emptyDir"}, volume
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["runAsNonRoot"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            assert "hostPort" not in str(container["ports"])


def test_read_only_root_where_the_image_tolerates_it() -> None:
    read_only = {
        name: context["securityContext"]["readOnlyRootFilesystem"]
        for workload in _workloads().values()
        for name, context in _containers(workload).items()
    }
    assert read_only == {
        "core": False,
        "portal": True,
        "registry": False,
        "registryctl": False,
        "jobservice": False,
        "trivy": False,
        "exporter": False,
        "redis": True,
    }
    portal = _containers(_workloads()["harbor-portal"])["portal"]
    assert {"name": "tmp", "mountPath": "/tmp", "readOnly": False} in portal["volumeMounts"]


PROBES = {
    "core": ("/api/v2.0/ping", 8080),
    "portal": ("/", 8080),
    "registry": ("/", 5000),
    "registryctl": ("/api/health", 8080),
    "jobservice": ("/api/v1/stats", 8080),
    "exporter": ("/", 8001),
}


@pytest.mark.parametrize("container_name", sorted(PROBES))
def test_probes_follow_harbor(container_name: str) -> None:
    path, port = PROBES[container_name]
    container = next(
        containers[container_name]
        for workload in _workloads().values()
        if container_name in (containers := _containers(workload))
    )
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == path
        assert container[probe]["httpGet"]["port"] == port


def test_trivy_probes() -> None:
    trivy = _containers(_workloads()["harbor-trivy"])["trivy"]
    assert trivy["livenessProbe"]["httpGet"]["path"] == "/probe/healthy"
    assert trivy["readinessProbe"]["httpGet"]["path"] == "/probe/ready"
    assert trivy["ports"] == [{"name": "api-server", "containerPort": 8080, "protocol": "TCP"}]


def test_metrics_ports_on_core_registry_jobservice_exporter() -> None:
    with_metrics = {
        name
        for workload in _workloads().values()
        for name, container in _containers(workload).items()
        if {"name": "http-metrics", "containerPort": 8001, "protocol": "TCP"} in container["ports"]
    }
    assert with_metrics == {"core", "registry", "jobservice", "exporter"}
    services = {
        obj["metadata"]["name"]
        for obj in render_stack(build_spec())
        if obj["kind"] == "Service" and any(port["name"] == "http-metrics" for port in obj["spec"]["ports"])
    }
    assert services == {"harbor-core", "harbor-registry", "harbor-jobservice", "harbor-exporter"}


def test_registry_and_registryctl_share_one_pod() -> None:
    registry = _workloads()["harbor-registry"]
    assert list(_containers(registry)) == ["registry", "registryctl"]
    assert registry["spec"]["replicas"] == 1


def test_resources_and_replicas_come_from_the_spec() -> None:
    core = _workloads()["harbor-core"]
    assert core["spec"]["replicas"] == 2
    assert _containers(core)["core"]["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }


def test_scheduling_from_the_spec_on_every_pod() -> None:
    for workload in _workloads().values():
        pod = workload["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"node-role.example.com/tenant": "true"}
        assert pod["tolerations"] == [
            {"key": "dedicated", "operator": "Equal", "value": "registry", "effect": "NoSchedule"}
        ]


def test_every_referenced_config_object_is_rendered() -> None:
    objects = render_stack(build_spec(cache=MANAGED_CACHE, storage=SWIFT))
    present = {(obj["kind"], obj["metadata"]["name"]) for obj in objects}
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        pod = obj["spec"]["template"]["spec"]
        for volume in pod.get("volumes", []):
            if "configMap" in volume:
                assert ("ConfigMap", volume["configMap"]["name"]) in present
            if "secret" in volume:
                assert ("Secret", volume["secret"]["secretName"]) in present
        for container in pod["containers"]:
            for source in container.get("envFrom", []):
                kind, ref = (
                    ("Secret", "secretRef") if "secretRef" in source else ("ConfigMap", "configMapRef")
                )
                assert (kind, source[ref]["name"]) in present
            for variable in container.get("env", []):
                if "valueFrom" in variable:
                    reference = variable["valueFrom"]["secretKeyRef"]
                    secret = next(
                        o
                        for o in objects
                        if o["kind"] == "Secret" and o["metadata"]["name"] == reference["name"]
                    )
                    assert reference["key"] in secret["data"]


@pytest.mark.parametrize("storage", ["s3", "swift"])
def test_no_secret_value_outside_secrets(storage: str) -> None:
    spec = build_spec(cache=MANAGED_CACHE, storage=SWIFT) if storage == "swift" else build_spec()
    for obj in render_stack(spec):
        if obj["kind"] == "Secret":
            continue
        text = str(obj)
        for value in secret_values(spec):
            assert value not in text, (obj["kind"], obj["metadata"]["name"])


def test_core_mounts_keys_and_token_cache() -> None:
    core = _workloads()["harbor-core"]
    mounts = {mount["mountPath"] for mount in _containers(core)["core"]["volumeMounts"]}
    assert mounts == {"/etc/core/app.conf", "/etc/core/key", "/etc/core/private_key.pem", "/etc/core/token"}
    assert _containers(core)["core"]["startupProbe"]["failureThreshold"] >= 60
