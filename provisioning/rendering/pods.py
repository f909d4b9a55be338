"""Pod and container building blocks shared by every workload: Pod Security ``restricted``, probes,
resources, scheduling, and the checksum annotations that roll pods when their configuration changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from provisioning.rendering.labels import claim_labels, pod_labels, selector_labels
from provisioning.rendering.names import REDIS
from provisioning.rendering.objects import Checksums, Object, metadata

if TYPE_CHECKING:
    from provisioning.rendering.spec import ComponentSpec, StackSpec

HARBOR_UID = 10000
"""The ``harbor`` (and portal ``nginx``, trivy ``scanner``) user of goharbor images."""
REDIS_UID = 999
TMP_PATH = "/tmp"  # noqa: S108 - a path inside the container, backed by an emptyDir

READ_ONLY_ROOT: Mapping[str, bool] = {"portal": True, REDIS: True}
"""Containers whose image tolerates a read-only root filesystem (writable paths are emptyDirs).

The other goharbor images (core, jobservice, registry, registryctl, trivy, exporter) copy the system CA
bundle at start (``install_cert.sh``, the registry entrypoint) into ``/etc/pki/tls/certs`` and the home
directory, and exit when the root filesystem is read-only.
"""


def pod_security_context(uid: int = HARBOR_UID) -> Object:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context(component: str) -> Object:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": READ_ONLY_ROOT.get(component, False),
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(component: ComponentSpec) -> Object:
    return {
        "requests": {"cpu": component.cpu_request, "memory": component.memory_request},
        "limits": {"cpu": component.cpu_limit, "memory": component.memory_limit},
    }


def http_probe(
    path: str,
    port: int | str,
    *,
    initial_delay: int = 10,
    period: int = 10,
    timeout: int = 5,
    failure: int = 3,
) -> Object:
    return {
        "httpGet": {"path": path, "port": port, "scheme": "HTTP"},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "successThreshold": 1,
        "failureThreshold": failure,
    }


def tcp_probe(port: int | str, *, initial_delay: int, failure: int, period: int = 10) -> Object:
    return {
        "tcpSocket": {"port": port},
        "initialDelaySeconds": initial_delay,
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "successThreshold": 1,
        "failureThreshold": failure,
    }


def container_port(name: str, port: int) -> Object:
    return {"name": name, "containerPort": port, "protocol": "TCP"}


def env_value(name: str, value: str) -> Object:
    return {"name": name, "value": value}


def env_from_secret(name: str, secret_name: str, key: str) -> Object:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret_name, "key": key}}}


def config_map_volume(name: str, config_map_name: str) -> Object:
    return {"name": name, "configMap": {"name": config_map_name, "defaultMode": 0o444}}


def secret_volume(name: str, secret_name: str, items: Sequence[tuple[str, str]] | None = None) -> Object:
    source: Object = {"secretName": secret_name, "defaultMode": 0o440}
    if items:
        source["items"] = [{"key": key, "path": path} for key, path in items]
    return {"name": name, "secret": source}


def empty_dir(name: str, size_limit: str = "256Mi") -> Object:
    return {"name": name, "emptyDir": {"sizeLimit": size_limit}}


def mount(name: str, path: str, sub_path: str = "", read_only: bool = True) -> Object:
    result: Object = {"name": name, "mountPath": path, "readOnly": read_only}
    if sub_path:
        result["subPath"] = sub_path
    return result


def image(spec: StackSpec, name: str) -> str:
    """``<image_registry>/<name>:v<version>`` for a goharbor image."""
    return f"{spec.image_registry}/{name}:v{spec.harbor_version}"


def container(
    name: str,
    image_ref: str,
    component: str,
    sizing: ComponentSpec,
    *,
    ports: Sequence[Object],
    env: Sequence[Object] = (),
    env_from: Sequence[Object] = (),
    mounts: Sequence[Object] = (),
    liveness: Object | None = None,
    readiness: Object | None = None,
    startup: Object | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] = (),
) -> Object:
    result: Object = {"name": name, "image": image_ref, "imagePullPolicy": "IfNotPresent"}
    if command:
        result["command"] = list(command)
    if args:
        result["args"] = list(args)
    result["ports"] = list(ports)
    if env_from:
        result["envFrom"] = list(env_from)
    if env:
        result["env"] = list(env)
    if liveness:
        result["livenessProbe"] = liveness
    if readiness:
        result["readinessProbe"] = readiness
    if startup:
        result["startupProbe"] = startup
    result["resources"] = resources(sizing)
    result["securityContext"] = container_security_context(component)
    if mounts:
        result["volumeMounts"] = list(mounts)
    return result


def referenced_config(pod_spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, name)`` of every ConfigMap and Secret a pod mounts or reads its environment from."""
    found: set[tuple[str, str]] = set()
    for volume in pod_spec.get("volumes", ()):
        if "configMap" in volume:
            found.add(("ConfigMap", volume["configMap"]["name"]))
        elif "secret" in volume:
            found.add(("Secret", volume["secret"]["secretName"]))
    for item in (*pod_spec.get("initContainers", ()), *pod_spec["containers"]):
        for source in item.get("envFrom", ()):
            if "configMapRef" in source:
                found.add(("ConfigMap", source["configMapRef"]["name"]))
            elif "secretRef" in source:
                found.add(("Secret", source["secretRef"]["name"]))
        for variable in item.get("env", ()):
            value_from = variable.get("valueFrom", {})
            if "secretKeyRef" in value_from:
                found.add(("Secret", value_from["secretKeyRef"]["name"]))
            elif "configMapKeyRef" in value_from:
                found.add(("ConfigMap", value_from["configMapKeyRef"]["name"]))
    return sorted(found)


def checksum_annotations(
    spec: StackSpec, pod_spec: Mapping[str, Any], checksums: Checksums
) -> dict[str, str]:
    """``checksum/<kind>-<name without instance prefix>`` for each referenced ConfigMap and Secret.

    Raises ``KeyError`` when a referenced object is not among ``checksums``: every object a pod needs must
    be rendered with it.
    """
    prefix = len(spec.instance) + 1
    return {
        f"checksum/{kind.lower()}-{name[prefix:]}": checksums[(kind, name)]
        for kind, name in referenced_config(pod_spec)
    }


def topology_spread(spec: StackSpec, component: str) -> list[Object]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector_labels(spec, component)},
        }
        for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
    ]


def pod_template(
    spec: StackSpec,
    component: str,
    containers: Sequence[Object],
    volumes: Iterable[Object],
    checksums: Checksums,
    *,
    uid: int = HARBOR_UID,
    grace_seconds: int = 30,
) -> Object:
    """A pod template with the restricted security profile, the spec's scheduling and checksum annotations."""
    pod_spec: Object = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(uid),
        "terminationGracePeriodSeconds": grace_seconds,
        "containers": list(containers),
    }
    volume_list = list(volumes)
    if volume_list:
        pod_spec["volumes"] = volume_list
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(sorted(spec.node_selector.items()))
    if spec.tolerations:
        pod_spec["tolerations"] = [dict(toleration) for toleration in spec.tolerations]
    if spec.ha:
        pod_spec["topologySpreadConstraints"] = topology_spread(spec, component)
    template_meta: Object = {"labels": pod_labels(spec, component)}
    annotations = checksum_annotations(spec, pod_spec, checksums)
    if annotations:
        template_meta["annotations"] = annotations
    return {"metadata": template_meta, "spec": pod_spec}


ROLLING_UPDATE: Object = {"maxSurge": 1, "maxUnavailable": 0}
"""Stated explicitly, so the quota's arithmetic (one extra pod per Deployment while it rolls) is the cluster's."""


def deployment(spec: StackSpec, component: str, name: str, replicas: int, template: Object) -> Object:
    """A Deployment; a suspended stack runs none of its pods."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(spec, component, name),
        "spec": {
            "replicas": 0 if spec.suspended else replicas,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": selector_labels(spec, component)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": dict(ROLLING_UPDATE)},
            "template": template,
        },
    }


def stateful_set(
    spec: StackSpec,
    component: str,
    name: str,
    replicas: int,
    template: Object,
    claim: tuple[str, str],
) -> Object:
    """A StatefulSet with one ReadWriteOnce volume claim template ``(claim name, size)``.

    Claims are deleted with the StatefulSet (a removed registry leaves no volume behind) and kept on
    scale-down (a suspended stack keeps them). The claim template is immutable in Kubernetes, so its labels are
    only those that never change for a registry.
    """
    claim_name, size = claim
    claim_spec: Object = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if spec.storage_class:
        claim_spec["storageClassName"] = spec.storage_class
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": metadata(spec, component, name),
        "spec": {
            "replicas": 0 if spec.suspended else replicas,
            "revisionHistoryLimit": 3,
            "serviceName": name,
            "podManagementPolicy": "Parallel",
            "selector": {"matchLabels": selector_labels(spec, component)},
            "updateStrategy": {"type": "RollingUpdate"},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
            "template": template,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": claim_name, "labels": claim_labels(spec, component)},
                    "spec": claim_spec,
                }
            ],
        },
    }
