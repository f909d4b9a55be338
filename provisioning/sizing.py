"""From a plan and a registry's settings to rendering's sizing, and what a stack of that size needs of its namespace.

The one translation of plan figures into ``ComponentSet`` and the managed Redis' ``CacheSpec`` sizing: reconciliation
builds real specs with it, and plans and registries check their namespace ceilings against the stack it renders.
What a stack needs depends only on its sizing and options, so ``requirements`` renders one with placeholder names and
secrets; the arithmetic is rendering's (``stack_requirements``), never repeated here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from provisioning.rendering import (
    CacheSpec,
    ComponentSet,
    ComponentSpec,
    DatabaseSpec,
    HarborSecrets,
    Requirements,
    StackSpec,
    StorageSpec,
    stack_requirements,
)
from provisioning.rendering.quantities import cpu_words, memory_words, millicores, whole_bytes

if TYPE_CHECKING:
    from provisioning.models import Plan
    from provisioning.models.registries import EffectiveSettings

MANAGED_REDIS_CPU = ("50m", "500m")


def component_set(effective: EffectiveSettings) -> ComponentSet:
    """Replicas and resources of every component of a running registry with these settings."""
    harbor = ComponentSpec(
        replicas=effective.replicas,
        cpu_request=effective.cpu_request,
        cpu_limit=effective.cpu_limit,
        memory_request=effective.memory_request,
        memory_limit=effective.memory_limit,
    )
    defaults = ComponentSet()
    return ComponentSet(
        core=harbor,
        portal=_replicas(defaults.portal, effective.replicas),
        registry=harbor,
        registryctl=defaults.registryctl,
        jobservice=harbor,
        trivy=_replicas(defaults.trivy, 1),
        exporter=_replicas(defaults.exporter, 1),
    )


MAX_IDLE_CONNECTIONS = 50
"""Idle connections a Harbor pod keeps at most (fewer when the plan allows fewer open ones)."""


@dataclass(frozen=True)
class DatabasePool:
    """What each Harbor pod may open to the tenant's database, so that all of them stay under the role's limit."""

    max_open: int
    max_idle: int


def database_pool(plan: Plan) -> DatabasePool:
    per_pod = plan.database_connections_per_pod()
    return DatabasePool(max_open=per_pod, max_idle=min(MAX_IDLE_CONNECTIONS, per_pod))


def _replicas(spec: ComponentSpec, replicas: int) -> ComponentSpec:
    return ComponentSpec(replicas, spec.cpu_request, spec.cpu_limit, spec.memory_request, spec.memory_limit)


def managed_cache(plan: Plan, password: str, username: str = "", previous_password: str = "") -> CacheSpec:
    """A console-run Redis sized by the plan: maxmemory plus headroom, and its disk."""
    memory = plan.redis_memory_mib
    headroom = max(128, memory // 2)
    return CacheSpec(
        mode="managed",
        password=password,
        previous_password=previous_password,
        username=username,
        persistence_size=f"{plan.redis_persistence_gib}Gi",
        maxmemory=f"{memory}mb",
        resources=ComponentSpec(
            cpu_request=MANAGED_REDIS_CPU[0],
            cpu_limit=MANAGED_REDIS_CPU[1],
            memory_request=f"{headroom}Mi",
            memory_limit=f"{memory + headroom}Mi",
        ),
    )


_PEM_KEY = "-----BEGIN PRIVATE KEY-----\nsizing\n-----END PRIVATE KEY-----\n"
_PEM_CERT = "-----BEGIN CERTIFICATE-----\nsizing\n-----END CERTIFICATE-----\n"
_PLACEHOLDER_SECRETS = HarborSecrets(
    core_secret="s" * 16,
    jobservice_secret="sizing",
    registry_http_secret="sizing",
    csrf_key="s" * 32,
    secret_key="s" * 16,
    token_private_key=_PEM_KEY,
    token_certificate=_PEM_CERT,
    admin_password="sizing",
    registry_password="sizing",
    registry_htpasswd="harbor_registry_user:$2y$sizing",
)


def requirements(
    effective: EffectiveSettings, plan: Plan, *, managed: bool = True, acme_http01: bool = True
) -> Requirements:
    """What a registry with these settings needs of its namespace at its peak (rollouts, solver included)."""
    cache = (
        managed_cache(plan, "sizing")
        if managed
        else CacheSpec(mode="provider", password="sizing", host="192.0.2.2")
    )
    spec = StackSpec(
        registry_id=1,
        instance="sizing",
        namespace="sizing",
        tenant="sizing",
        harbor_version="2.15.0",
        hostname="sizing.invalid",
        external_url="https://sizing.invalid",
        database=DatabaseSpec(host="192.0.2.1", username="sizing", password="sizing"),
        cache=cache,
        storage=StorageSpec(kind="s3", region="r", bucket="b", access_key="a", secret_key="s"),
        secrets=_PLACEHOLDER_SECRETS,
        cert_issuer="sizing",
        installation="sizing",
        components=component_set(effective),
        trivy_enabled=effective.trivy_enabled,
        ha=effective.ha,
        acme_http01=acme_http01,
    )
    return stack_requirements(spec)


@dataclass(frozen=True)
class CeilingExcess:
    """A namespace ceiling of a plan that a stack's needs go above."""

    field: str
    needed: str
    ceiling: str


def ceiling_excesses(needs: Requirements, plan: Plan) -> list[CeilingExcess]:
    """Which of the plan's namespace ceilings (limits of CPU and memory) ``needs`` goes above."""
    found = []
    if needs.cpu_limits > millicores(plan.namespace_cpu_limit):
        found.append(
            CeilingExcess(
                "namespace_cpu_limit",
                cpu_words(needs.cpu_limits),
                cpu_words(millicores(plan.namespace_cpu_limit)),
            )
        )
    if needs.memory_limits > whole_bytes(plan.namespace_memory_limit):
        found.append(
            CeilingExcess(
                "namespace_memory_limit",
                memory_words(needs.memory_limits),
                memory_words(whole_bytes(plan.namespace_memory_limit)),
            )
        )
    return found
