"""From database rows to rendering's ``StackSpec``: the registry, its plan, bindings, secrets and cluster.

Reads only what is already in the database (the external services provisioned the bindings before this runs), plus
the addresses of the external hosts the stack names (``addresses``: NetworkPolicies take addresses, never names);
a value rendering refuses becomes ``InvalidSpec`` with rendering's sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef

from provisioning.choices import CacheMode, DesiredState, StorageKind
from provisioning.models import CacheBinding, Plan, Registry, StorageBinding, Upgrade, installation_id
from provisioning.reconcile.addresses import Resolver, external_addresses, system_resolver
from provisioning.reconcile.errors import InvalidSpec
from provisioning.rendering import (
    CacheSpec,
    DatabaseSpec,
    HarborSecrets,
    StackSpec,
    StorageSpec,
    render_stack,
)
from provisioning.rendering.upgrade import UpgradeStage, render_upgrade_stack
from provisioning.services.secrets import ensure_registry_secrets
from provisioning.sizing import component_set, database_pool, managed_cache
from provisioning.upgrades.stage import STAGED as STAGED_STATUSES

GIB = 1024**3


def load_registry(registry_id: int) -> Registry | None:
    """The registry with everything reconciliation reads, in a fixed handful of queries: its row joined with its
    tenant, plan and cluster (the shared services' admin connection included: ``prepare_changed_dependencies``
    compares it, rendering never reads it); its bindings, secrets and components each by key (one eight-table join
    cost PostgreSQL more to plan than seven simple queries to run); ``has_staged_upgrade`` says whether an upgrade's
    stage must be read."""
    return (
        Registry.objects.select_related("tenant", "plan", "cluster")
        .annotate(
            has_staged_upgrade=Exists(
                Upgrade.objects.filter(registry_id=OuterRef("pk"), status__in=STAGED_STATUSES)
            )
        )
        .prefetch_related("database", "cache", "storage", "ingress", "secrets", "components")
        .filter(pk=registry_id)
        .first()
    )


def _cache(cache: CacheBinding, plan: Plan) -> CacheSpec:
    if cache.mode == CacheMode.MANAGED:
        previous = cache.previous_password if cache.rotation_started_at else ""
        return managed_cache(plan, cache.password, cache.username, previous)
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


def build_spec(
    registry: Registry, secrets: Mapping[str, str] | None = None, resolver: Resolver | None = system_resolver
) -> StackSpec:
    """The plain-data description of ``registry``'s stack (its secrets created first if missing).

    Raises ``InvalidSpec`` (``UnresolvedHost`` for an external host without an address) with a sentence naming
    what to fix. ``resolver=None`` leaves the external hosts unresolved: enough for what needs no NetworkPolicy
    (the Helm values), not for ``render_stack``.
    """
    plan, cluster = registry.plan, registry.cluster
    effective = registry.effective()
    values = dict(secrets) if secrets is not None else ensure_registry_secrets(registry)
    database = registry.database
    pool = database_pool(plan)
    try:
        spec = StackSpec(
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
                max_open_conns=pool.max_open,
                max_idle_conns=pool.max_idle,
            ),
            cache=_cache(registry.cache, plan),
            storage=_storage(registry.storage, registry),
            secrets=HarborSecrets(**values),
            cert_issuer=cluster.cert_issuer,
            installation=installation_id(),
            components=component_set(effective),
            trivy_enabled=effective.trivy_enabled,
            ha=effective.ha,
            suspended=registry.desired_state == DesiredState.SUSPENDED,
            storage_quota_bytes=effective.storage_quota_gib * GIB,
            parallel_request_limit=effective.parallel_request_limit,
            node_selector=dict(cluster.node_selector or {}),
            tolerations=tuple(cluster.tolerations or ()),
            ingress_class=cluster.ingress_class,
            ingress_namespace=cluster.ingress_namespace,
            monitoring_namespace=cluster.monitoring_namespace,
            dns_namespace=cluster.dns_namespace or "kube-system",
            dns_pod_labels=dict(cluster.dns_pod_labels or {}),
            acme_http01=cluster.acme_http01,
            storage_class=cluster.storage_class,
            image_registry=settings.HARBOR_IMAGE_REGISTRY,
            egress_cidrs=tuple(cluster.egress_cidrs or ()),
            upstream_egress_cidrs=tuple(cluster.upstream_egress_cidrs or ()),
            upstream_egress_ports=tuple(cluster.upstream_egress_ports or (443,)),
        )
        if resolver is None:
            return spec
        addresses = external_addresses(spec, spec.egress_cidrs, cluster.name, resolver)
        return replace(spec, external_addresses=addresses)
    except (ValueError, TypeError) as error:
        raise InvalidSpec(str(error)) from None


def desired_objects(
    registry: Registry,
    secrets: Mapping[str, str] | None = None,
    resolver: Resolver = system_resolver,
    stage: UpgradeStage | None = None,
) -> list[dict[str, Any]]:
    """Every object the registry's stack should have, in apply order (a suspended one runs no pod); ``stage``:
    where an upgrade stands (``provisioning.upgrades``), which components already run the new version.

    Raises ``InvalidSpec`` when the rows cannot be rendered.
    """
    spec = build_spec(registry, secrets, resolver)
    try:
        if stage is not None:
            return render_upgrade_stack(spec, stage)
        return render_stack(spec)
    except ValueError as error:
        raise InvalidSpec(str(error)) from None
