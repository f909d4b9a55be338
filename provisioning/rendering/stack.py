"""A whole stack: every object of one tenant's Harbor, in the order the engine applies them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.rendering.availability import render_pdbs
from provisioning.rendering.core import (
    render_core_configmap,
    render_core_deployment,
    render_core_env_configmap,
    render_core_keys_secret,
    render_core_secret,
    render_core_service,
)
from provisioning.rendering.exporter import (
    render_exporter_deployment,
    render_exporter_env_configmap,
    render_exporter_secret,
    render_exporter_service,
)
from provisioning.rendering.ingress import render_certificate, render_ingress
from provisioning.rendering.jobservice import (
    render_jobservice_configmap,
    render_jobservice_deployment,
    render_jobservice_env_configmap,
    render_jobservice_secret,
    render_jobservice_service,
)
from provisioning.rendering.labels import COMPONENT_LABEL
from provisioning.rendering.names import CORE, EXPORTER, JOBSERVICE, PORTAL, REDIS, REGISTRY, TRIVY
from provisioning.rendering.network import render_networkpolicies
from provisioning.rendering.objects import Object, config_checksums
from provisioning.rendering.portal import (
    render_portal_configmap,
    render_portal_deployment,
    render_portal_service,
)
from provisioning.rendering.quota import render_limitrange, render_namespace, render_resourcequota
from provisioning.rendering.redis import (
    render_redis_networkpolicy,
    render_redis_secret,
    render_redis_service,
    render_redis_statefulset,
)
from provisioning.rendering.registry import (
    render_registry_configmap,
    render_registry_deployment,
    render_registry_htpasswd_secret,
    render_registry_secret,
    render_registry_service,
)
from provisioning.rendering.spec import StackSpec
from provisioning.rendering.trivy import render_trivy_secret, render_trivy_service, render_trivy_statefulset
from provisioning.rendering.versions import harbor_release

RENDERED_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Namespace"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "Ingress"),
    ("cert-manager.io/v1", "Certificate"),
)
"""``(apiVersion, kind)`` of everything rendering produces: the kinds the engine lists to find orphans."""

_KIND_ORDER: Mapping[str, int] = {
    "Namespace": 0,
    "ResourceQuota": 10,
    "LimitRange": 11,
    "NetworkPolicy": 20,
    "Secret": 30,
    "ConfigMap": 40,
    "Service": 70,
    "PodDisruptionBudget": 80,
    "Ingress": 90,
    "Certificate": 100,
}
_MANAGED_REDIS_ORDER: Mapping[str, int] = {
    "Secret": 50,
    "NetworkPolicy": 51,
    "Service": 52,
    "StatefulSet": 53,
}
_WORKLOAD_ORDER: Mapping[str, int] = {
    CORE: 60,
    PORTAL: 61,
    REGISTRY: 62,
    JOBSERVICE: 63,
    TRIVY: 64,
    EXPORTER: 65,
}


def apply_order(kind: str, component: str = "") -> int:
    """Rank of an object in the apply sequence (lower first; delete in reverse).

    Namespace; ResourceQuota, LimitRange; NetworkPolicies; Secrets; ConfigMaps; the managed Redis (Secret,
    NetworkPolicy, Service, StatefulSet); workloads core, portal, registry, jobservice, trivy, exporter;
    Services; PodDisruptionBudgets; Ingress; Certificate.
    """
    if component == REDIS and kind in _MANAGED_REDIS_ORDER:
        return _MANAGED_REDIS_ORDER[kind]
    if kind in ("Deployment", "StatefulSet"):
        return _WORKLOAD_ORDER[component]
    try:
        return _KIND_ORDER[kind]
    except KeyError:
        raise ValueError(f"kind {kind!r} is not rendered by harbor-console.") from None


def object_apply_order(obj: Mapping[str, Any]) -> int:
    """``apply_order`` of a rendered object, read from its kind and component label."""
    return apply_order(obj["kind"], obj["metadata"]["labels"].get(COMPONENT_LABEL, ""))


def render_secrets(spec: StackSpec) -> list[Object]:
    secrets = [
        render_core_secret(spec),
        render_core_keys_secret(spec),
        render_jobservice_secret(spec),
        render_registry_secret(spec),
        render_registry_htpasswd_secret(spec),
        render_exporter_secret(spec),
    ]
    if spec.trivy_enabled:
        secrets.append(render_trivy_secret(spec))
    return secrets


def render_configmaps(spec: StackSpec) -> list[Object]:
    return [
        render_core_configmap(spec),
        render_core_env_configmap(spec),
        render_portal_configmap(spec),
        render_registry_configmap(spec),
        render_jobservice_configmap(spec),
        render_jobservice_env_configmap(spec),
        render_exporter_env_configmap(spec),
    ]


def render_stack(spec: StackSpec) -> list[Object]:
    """Every object of the stack, sorted by ``apply_order``. Same spec, same objects."""
    harbor_release(spec.harbor_version)
    config = [*render_secrets(spec), *render_configmaps(spec)]
    managed_redis = spec.cache.mode == "managed"
    redis_config = [render_redis_secret(spec)] if managed_redis else []
    checksums = config_checksums([*config, *redis_config])

    objects: list[Object] = [
        render_namespace(spec),
        render_resourcequota(spec),
        render_limitrange(spec),
        *render_networkpolicies(spec),
        *config,
    ]
    if managed_redis:
        objects += [
            *redis_config,
            render_redis_networkpolicy(spec),
            render_redis_service(spec),
            render_redis_statefulset(spec, checksums),
        ]
    objects += [
        render_core_deployment(spec, checksums),
        render_portal_deployment(spec, checksums),
        render_registry_deployment(spec, checksums),
        render_jobservice_deployment(spec, checksums),
    ]
    if spec.trivy_enabled:
        objects.append(render_trivy_statefulset(spec, checksums))
    objects += [
        render_exporter_deployment(spec, checksums),
        render_core_service(spec),
        render_portal_service(spec),
        render_registry_service(spec),
        render_jobservice_service(spec),
    ]
    if spec.trivy_enabled:
        objects.append(render_trivy_service(spec))
    objects += [
        render_exporter_service(spec),
        *render_pdbs(spec),
        render_ingress(spec),
        render_certificate(spec),
    ]
    objects.sort(key=object_apply_order)
    return objects
