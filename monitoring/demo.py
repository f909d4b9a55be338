"""Demo history for ``make run``: a local Prometheus whose history matches the demo fleet in the database.

:func:`start_demo_prometheus` reads the live registries (namespace, plan limits, version), gives each a
deterministic character (most are healthy; one is near its quota, one answers many 5xx, one has a crash-looping
job service…), generates eight days of history up to now and eight hours beyond (every two minutes lately),
backfills it into a fresh TSDB and starts Prometheus on it. The figures stay fresh for those eight hours;
restarting ``make run`` regenerates them.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from monitoring import history
from monitoring.history import BUSINESS_GAUGES, DAY, HOUR, MINUTE, TenantLoad, Tier
from monitoring.localprom import LocalPrometheus, PrometheusNotInstalled, backfill, binary, wait_ready
from provisioning.models import Registry

GiB = 1024**3
CHARACTERS = (
    history.HEALTHY,
    history.NEAR_QUOTA,
    history.ERRORS,
    history.HEALTHY,
    history.CRASHLOOP,
    history.SLOW,
    history.HEALTHY,
    history.OOM,
)
DEMO_TIERS = (
    Tier(-8 * DAY, -25 * HOUR, HOUR),
    Tier(-8 * DAY, -25 * HOUR, 5 * MINUTE, BUSINESS_GAUGES),
    Tier(-25 * HOUR, -6 * HOUR, 5 * MINUTE),
    Tier(-6 * HOUR, 8 * HOUR, 2 * MINUTE),
)

Spawn = Callable[..., subprocess.Popen[bytes]]


def demo_loads(registries: Iterable[Registry]) -> list[TenantLoad]:
    """One generator input per registry, its character chosen by its place in the fleet (stable across runs)."""
    loads = []
    for index, registry in enumerate(sorted(registries, key=lambda r: r.namespace)):
        effective = registry.effective()
        loads.append(
            TenantLoad(
                namespace=registry.namespace,
                plan=registry.plan.name if registry.plan.name in history.REPLICAS else "m",
                quota_bytes=effective.storage_quota_gib * GiB,
                parallel_limit=effective.parallel_request_limit,
                harbor_version=registry.harbor_version,
                trivy=effective.trivy_enabled,
                condition=CHARACTERS[index % len(CHARACTERS)],
                repositories_deleted=index % 5 == 3,
            )
        )
    return loads


def prepare(work_dir: Path, now: int | None = None) -> Path:
    """Generate the demo history and backfill it into ``work_dir/tsdb`` (replaced); returns the TSDB path."""
    registries = list(Registry.objects.live().select_related("plan"))
    generated = history.generate(demo_loads(registries), int(now or time.time()), tiers=DEMO_TIERS)
    tsdb = work_dir / "tsdb"
    shutil.rmtree(tsdb, ignore_errors=True)
    backfill(generated, tsdb, work_dir / "openmetrics")
    return tsdb


def start_demo_prometheus(spawn: Spawn, work_dir: Path) -> str:
    """Start Prometheus on fresh demo history as a child of ``spawn(name, argv)``; its URL, or '' if not installed."""
    try:
        binary("prometheus")
        binary("promtool")
    except PrometheusNotInstalled:
        return ""
    work_dir.mkdir(parents=True, exist_ok=True)
    server = LocalPrometheus(prepare(work_dir), work_dir)
    child = spawn("prometheus", server.command())
    return server.url if wait_ready(server.url, 30, child) else ""
