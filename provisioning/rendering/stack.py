"""A whole stack: every object of one tenant's Harbor, in the order the engine applies them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
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
from provisioning.rendering.objects import Checksums, Object, config_checksums
from provisioning.rendering.portal import (
    render_portal_configmap,
    render_portal_deployment,
    render_portal_service,
)
from provisioning.rendering.quota import render_limitrange, render_namespace, render_resourcequota
from provisioning.rendering.redis import (
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
from provisioning.rendering.requirements import Requirements, required_quota
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

POD_KINDS = frozenset({"Deployment", "StatefulSet", "Job", "Pod"})
"""Kinds whose pods the quota counts (a Job rendered for a schema migration counts like any other)."""

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
    Service, StatefulSet); workloads core, portal, registry, jobservice, trivy, exporter;
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


def render_workloads(spec: StackSpec, checksums: Checksums) -> list[Object]:
    """Every pod-producing object: the managed Redis, then core, portal, registry, jobservice, trivy, exporter."""
    workloads: list[Object] = []
    if spec.cache.mode == "managed":
        workloads.append(render_redis_statefulset(spec, checksums))
    workloads += [
        render_core_deployment(spec, checksums),
        render_portal_deployment(spec, checksums),
        render_registry_deployment(spec, checksums),
        render_jobservice_deployment(spec, checksums),
    ]
    if spec.trivy_enabled:
        workloads.append(render_trivy_statefulset(spec, checksums))
    workloads.append(render_exporter_deployment(spec, checksums))
    return workloads


def render_services(spec: StackSpec) -> list[Object]:
    services = [render_redis_service(spec)] if spec.cache.mode == "managed" else []
    services += [
        render_core_service(spec),
        render_portal_service(spec),
        render_registry_service(spec),
        render_jobservice_service(spec),
    ]
    if spec.trivy_enabled:
        services.append(render_trivy_service(spec))
    services.append(render_exporter_service(spec))
    return services


def stack_requirements(spec: StackSpec, objects: list[Object] | None = None) -> Requirements:
    """What the stack needs of its namespace at its peak (see ``requirements``): the ResourceQuota it gets.

    ``objects``: the stack's objects when already rendered. A suspended stack runs no pod but keeps its claims.
    """
    if objects is None:
        objects = render_stack(spec)
    workloads = [obj for obj in objects if obj["kind"] in POD_KINDS]
    retained = None
    if spec.suspended:
        running = render_workloads(replace(spec, suspended=False), config_checksums(objects))
        retained = [obj for obj in running if obj["kind"] == "StatefulSet"]
    return required_quota(workloads, retained=retained, http01_solver=spec.acme_http01)


def _config(spec: StackSpec) -> list[Object]:
    config = [*render_secrets(spec), *render_configmaps(spec)]
    if spec.cache.mode == "managed":
        config.append(render_redis_secret(spec))
    return config


def render_stack(spec: StackSpec) -> list[Object]:
    """Every object of the stack, sorted by ``apply_order``. Same spec, same objects.

    The ResourceQuota and LimitRange are derived from the other objects, so whatever is rendered (a Job included)
    fits by construction.
    """
    harbor_release(spec.harbor_version)
    config = _config(spec)
    workloads = render_workloads(spec, config_checksums(config))
    objects: list[Object] = [
        render_namespace(spec),
        *render_networkpolicies(spec),
        *config,
        *workloads,
        *render_services(spec),
        *render_pdbs(spec),
        render_ingress(spec),
        render_certificate(spec),
    ]
    objects += [
        render_resourcequota(spec, stack_requirements(spec, objects)),
        render_limitrange(spec, workloads),
    ]
    objects.sort(key=object_apply_order)
    return objects
