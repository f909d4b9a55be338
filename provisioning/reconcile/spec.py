"""From database rows to rendering's ``StackSpec``: the registry, its plan, bindings, secrets and cluster.

Reads only what is already in the database (the external services provisioned the bindings before this runs);
a value rendering refuses becomes ``InvalidSpec`` with rendering's sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from provisioning.choices import CacheMode, DesiredState, StorageKind
from provisioning.models import CacheBinding, Plan, Registry, StorageBinding
from provisioning.reconcile.errors import InvalidSpec
from provisioning.reconcile.readiness import WORKLOAD_KINDS
from provisioning.rendering import (
    CacheSpec,
    ComponentSet,
    ComponentSpec,
    DatabaseSpec,
    HarborSecrets,
    QuotaSpec,
    StackSpec,
    StorageSpec,
    render_stack,
)
from provisioning.services.secrets import ensure_registry_secrets

GIB = 1024**3
CLUSTER_SERVICE_FIELDS = ("cluster__database_admin_url", "cluster__s3_access_key", "cluster__s3_secret_key")
"""The shared services' admin credentials: the external services read them, rendering never does."""


def load_registry(registry_id: int) -> Registry | None:
    """The registry with everything reconciliation reads, in a fixed handful of queries."""
    return (
        Registry.objects.select_related(
            "tenant", "plan", "cluster", "database", "cache", "storage", "ingress"
        )
        .defer(*CLUSTER_SERVICE_FIELDS)
        .prefetch_related("secrets", "components")
        .filter(pk=registry_id)
        .first()
    )


def _components(registry: Registry, plan: Plan, suspended: bool) -> ComponentSet:
    effective = registry.effective()
    replicas = 0 if suspended else effective.replicas
    single = 0 if suspended else 1
    harbor = ComponentSpec(
        replicas=replicas,
        cpu_request=effective.cpu_request,
        cpu_limit=effective.cpu_limit,
        memory_request=effective.memory_request,
        memory_limit=effective.memory_limit,
    )
    defaults = ComponentSet()
    return ComponentSet(
        core=harbor,
        portal=_replicas(defaults.portal, replicas),
        registry=harbor,
        registryctl=defaults.registryctl,
        jobservice=harbor,
        trivy=_replicas(defaults.trivy, single),
        exporter=_replicas(defaults.exporter, single),
    )


def _replicas(spec: ComponentSpec, replicas: int) -> ComponentSpec:
    return ComponentSpec(replicas, spec.cpu_request, spec.cpu_limit, spec.memory_request, spec.memory_limit)


def _cache(cache: CacheBinding, plan: Plan) -> CacheSpec:
    if cache.mode == CacheMode.MANAGED:
        memory = plan.redis_memory_mib
        headroom = max(128, memory // 2)
        return CacheSpec(
            mode="managed",
            password=cache.password,
            previous_password=cache.previous_password if cache.rotation_started_at else "",
            username=cache.username,
            persistence_size=f"{plan.redis_persistence_gib}Gi",
            maxmemory=f"{memory}mb",
            resources=ComponentSpec(
                cpu_request="50m",
                cpu_limit="500m",
                memory_request=f"{headroom}Mi",
                memory_limit=f"{memory + headroom}Mi",
            ),
        )
    return CacheSpec(
        mode="provider",
        password=cache.password,
        host=cache.host,
        port=cache.port,
        username=cache.username,
        tls=cache.tls,
        sentinel_master=cache.sentinel_master,
    )


def _storage(storage: StorageBinding, registry: Registry) -> StorageSpec:
    if storage.kind == StorageKind.SWIFT:
        return StorageSpec(
            kind="swift",
            auth_url=storage.endpoint,
            region=storage.region,
            username=storage.access_key,
            password=storage.secret_key,
            container=storage.bucket,
            tenant=storage.swift_tenant,
            domain=storage.swift_domain,
        )
    endpoint = storage.endpoint or registry.cluster.s3_endpoint
    return StorageSpec(
        kind="s3",
        endpoint=endpoint,
        region=storage.region or registry.cluster.s3_region or "us-east-1",
        bucket=storage.bucket,
        access_key=storage.access_key,
        secret_key=storage.secret_key,
        secure=not endpoint.startswith("http://"),
        root_directory=storage.root_directory,
    )


def _quota(plan: Plan) -> QuotaSpec:
    return QuotaSpec(
        cpu_requests=plan.namespace_cpu_limit,
        cpu_limits=plan.namespace_cpu_limit,
        memory_requests=plan.namespace_memory_limit,
        memory_limits=plan.namespace_memory_limit,
    )


def build_spec(registry: Registry, secrets: Mapping[str, str] | None = None) -> StackSpec:
    """The plain-data description of ``registry``'s stack (its secrets created first if missing)."""
    plan, cluster = registry.plan, registry.cluster
    effective = registry.effective()
    suspended = registry.desired_state == DesiredState.SUSPENDED
    values = dict(secrets) if secrets is not None else ensure_registry_secrets(registry)
    database = registry.database
    try:
        return StackSpec(
            registry_id=registry.pk,
            instance=registry.name,
            namespace=registry.namespace,
            tenant=registry.tenant.slug,
            harbor_version=registry.harbor_version,
            hostname=registry.hostname,
            external_url=registry.external_url,
            database=DatabaseSpec(
                host=database.host,
                port=database.port,
                name=database.name,
                username=database.username,
                password=database.password,
                sslmode=database.sslmode,  # type: ignore[arg-type]
            ),
            cache=_cache(registry.cache, plan),
            storage=_storage(registry.storage, registry),
            secrets=HarborSecrets(**values),
            cert_issuer=cluster.cert_issuer,
            components=_components(registry, plan, suspended),
            quota=_quota(plan),
            trivy_enabled=effective.trivy_enabled,
            ha=effective.ha,
            storage_quota_bytes=effective.storage_quota_gib * GIB,
            parallel_request_limit=effective.parallel_request_limit,
            node_selector=dict(cluster.node_selector or {}),
            tolerations=tuple(cluster.tolerations or ()),
            ingress_class=cluster.ingress_class,
            ingress_namespace=cluster.ingress_namespace,
            monitoring_namespace=cluster.monitoring_namespace,
            storage_class=cluster.storage_class,
            image_registry=settings.HARBOR_IMAGE_REGISTRY,
            egress_cidrs=tuple(cluster.egress_cidrs or ()),
        )
    except (ValueError, TypeError) as error:
        raise InvalidSpec(str(error)) from None


def desired_objects(registry: Registry, secrets: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every object the registry's stack should have, in apply order.

    A suspended registry keeps every object but runs no pod: each workload is scaled to zero, including those
    whose replica count rendering fixes (the managed Redis).
    """
    objects = render_stack(build_spec(registry, secrets))
    if registry.desired_state == DesiredState.SUSPENDED:
        for obj in objects:
            if obj["kind"] in WORKLOAD_KINDS:
                obj["spec"]["replicas"] = 0
    return objects
