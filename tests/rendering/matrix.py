"""The matrix the invariant tests run over: every Harbor version of the catalogue × every seeded plan × Trivy on/off ×
cache mode (provider Redis, managed Redis) × HA on/off × suspended, plus the object storage kinds where they matter.

Plans are the seeded S/M/L figures of the data migrations (``0002_roles_and_plans``, ceilings from
``0009_b_plan_ceilings``), sized by ``provisioning.sizing`` exactly as reconciliation sizes a registry. Pure: unsaved
model instances, no database. Renders are cached: the tests compare many pairs of the same stacks.
"""

from __future__ import annotations

import importlib
import itertools
from dataclasses import replace
from functools import cache
from typing import Any

from provisioning.catalogue import SUPPORTED_VERSIONS
from provisioning.models import Plan
from provisioning.models.plans import STANDARD_CONNECTION_LIMITS
from provisioning.rendering import StackSpec, StorageSpec, render_stack
from provisioning.sizing import component_set, database_pool, managed_cache
from tests.rendering.specs import PROVIDER_CACHE, S3, SWIFT, build_spec, default_database

_SEEDED = importlib.import_module("provisioning.migrations.0002_roles_and_plans").PLANS
_CEILINGS = importlib.import_module("provisioning.migrations.0009_b_plan_ceilings").CEILINGS
S3_WITHOUT_ENDPOINT = replace(S3, endpoint="")
STORAGES: dict[str, StorageSpec] = {"s3": S3, "swift": SWIFT, "s3-default-endpoint": S3_WITHOUT_ENDPOINT}

PLAN_NAMES = tuple(row[0] for row in _SEEDED)
CACHE_MODES = ("provider", "managed")
Point = tuple[str, str, bool, str, bool, bool]
"""(Harbor version, plan, Trivy, cache mode, HA, suspended)."""
MATRIX: tuple[Point, ...] = tuple(
    itertools.product(
        SUPPORTED_VERSIONS, PLAN_NAMES, (True, False), CACHE_MODES, (True, False), (False, True)
    )
)


@cache
def seeded_plan(name: str) -> Plan:
    """The plan ``name`` as the migrations seed it (unsaved)."""
    row = next(row for row in _SEEDED if row[0] == name)
    _, display, quota, max_quota, replicas, max_replicas, trivy, parallel, ha, cr, cl, mr, ml = row
    cpu, memory = _CEILINGS[name]
    return Plan(
        name=name,
        display_name=display,
        storage_quota_gib=quota,
        max_storage_quota_gib=max_quota,
        replicas=replicas,
        max_replicas=max_replicas,
        trivy_enabled=trivy,
        parallel_request_limit=parallel,
        ha=ha,
        cpu_request=cr,
        cpu_limit=cl,
        memory_request=mr,
        memory_limit=ml,
        namespace_cpu_limit=cpu,
        namespace_memory_limit=memory,
        database_connection_limit=STANDARD_CONNECTION_LIMITS[name],
    )


def matrix_spec(point: Point, storage: str = "s3", **overrides: Any) -> StackSpec:
    version, plan_name, trivy, cache_mode, ha, suspended = point
    plan = seeded_plan(plan_name)
    effective = replace(plan.effective_settings(trivy_enabled=trivy), ha=ha)
    cache_spec = managed_cache(plan, "Managed-Redis-Pass-9") if cache_mode == "managed" else PROVIDER_CACHE
    pool = database_pool(plan)
    values: dict[str, Any] = {
        "harbor_version": version,
        "database": replace(default_database(), max_open_conns=pool.max_open, max_idle_conns=pool.max_idle),
        "components": component_set(effective),
        "cache": cache_spec,
        "storage": STORAGES[storage],
        "trivy_enabled": trivy,
        "ha": ha,
        "suspended": suspended,
        "parallel_request_limit": plan.parallel_request_limit,
    }
    values.update(overrides)
    return build_spec(**values)


@cache
def _rendered(
    point: Point, storage: str, overrides: tuple[tuple[str, Any], ...]
) -> tuple[dict[str, Any], ...]:
    return tuple(render_stack(matrix_spec(point, storage, **dict(overrides))))


def matrix_objects(point: Point, storage: str = "s3", **overrides: Any) -> list[dict[str, Any]]:
    """The rendered stack of one matrix point (cached; do not change what it returns)."""
    return list(_rendered(point, storage, tuple(sorted(overrides.items()))))
