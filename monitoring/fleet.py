"""The fleet overview: every tenant's registry with its state and key figures, and the panels support staff watch.

The cost does not grow with the fleet: one Prometheus query per column for the whole fleet (aggregated by
namespace, see :data:`COLUMNS`) and a fixed handful of SQL queries. Rows are merged, filtered, sorted and paged
in Python, because half of the sortable columns come from Prometheus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, QuerySet
from django.utils import timezone

from monitoring import queries, rules
from monitoring.health import NEAR_QUOTA, STRIP, Assessment, Health, Signals, assess
from monitoring.prometheus import Batch, PrometheusSource
from monitoring.units import Unit
from provisioning.models import IngressBinding, ReconcileRun, Registry

GiB = 1024**3
PAGE_SIZE = 50
PANEL_ROWS = 10
CERTIFICATE_WARNING_DAYS = 21

# column → (catalogue query, period)
COLUMNS: dict[str, tuple[str, str | None]] = {
    "health": ("health", None),
    "components_down": ("components_down", None),
    "pods_not_ready": ("pods_not_ready", None),
    "error_ratio": ("error_ratio", None),
    "mean_latency": ("mean_latency", None),
    "pulls_per_day": ("pulls", "1d"),
    "storage_used": ("storage_used", None),
    "version": ("version", None),
}
UNITS = {
    "error_ratio": Unit.RATIO,
    "mean_latency": Unit.SECONDS,
    "pulls_per_day": Unit.PER_DAY,
    "storage_used": Unit.BYTES,
}


def fleet_promql(recorded: bool | None = None) -> dict[str, str]:
    """The PromQL of every column, for the whole fleet (from the recording rules when they are installed)."""
    use_rules = rules.enabled() if recorded is None else recorded
    return {
        column: queries.get(key).promql(queries.FLEET_SELECTOR, period=period, recorded=use_rules)
        for column, (key, period) in COLUMNS.items()
    }


@dataclass
class FleetRow:
    registry_id: int
    tenant_id: int
    tenant_slug: str
    tenant_name: str
    name: str
    namespace: str
    hostname: str
    plan: str
    plan_name: str
    cluster: str
    phase: str
    harbor_version: str
    storage_limit: int
    parallel_limit: int
    assessment: Assessment
    running_version: str | None = None
    error_ratio: float | None = None
    mean_latency: float | None = None
    pulls_per_day: float | None = None
    storage_used: float | None = None
    pods_not_ready: float | None = None
    components_down: tuple[str, ...] = ()

    @property
    def health(self) -> Health:
        return self.assessment.health

    @property
    def reasons(self) -> list[str]:
        return self.assessment.reasons

    @property
    def storage_share(self) -> float | None:
        if self.storage_used is None or not self.storage_limit:
            return None
        return self.storage_used / self.storage_limit


@dataclass(frozen=True)
class FleetFilter:
    q: str = ""
    health: str = ""
    plan: str = ""
    version: str = ""
    cluster: str = ""
    sort: str = "health"
    page: int = 1

    def matches(self, row: FleetRow) -> bool:
        if self.health and row.health != self.health:
            return False
        if self.plan and row.plan != self.plan:
            return False
        if self.version and row.harbor_version != self.version:
            return False
        if self.cluster and row.cluster != self.cluster:
            return False
        if self.q:
            needle = self.q.lower()
            haystack = (row.tenant_slug, row.tenant_name, row.name, row.namespace, row.hostname)
            return any(needle in text.lower() for text in haystack)
        return True


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


SORT_KEYS: dict[str, Any] = {
    "health": lambda r: (r.health.rank, r.tenant_slug, r.name),
    "tenant": lambda r: (r.tenant_slug, r.name),
    "registry": lambda r: (r.name, r.tenant_slug),
    "phase": lambda r: (r.phase, r.tenant_slug),
    "plan": lambda r: (r.plan, r.tenant_slug),
    "version": lambda r: version_key(r.harbor_version),
    "error_ratio": lambda r: r.error_ratio,
    "mean_latency": lambda r: r.mean_latency,
    "pulls_per_day": lambda r: r.pulls_per_day,
    "storage_used": lambda r: r.storage_used,
    "storage_share": lambda r: r.storage_share,
}
SORT_CHOICES = [*SORT_KEYS, *(f"-{k}" for k in SORT_KEYS)]


def sort_rows(rows: list[FleetRow], sort: str) -> list[FleetRow]:
    """Sort by ``sort`` (``-`` for descending); rows without a figure always come last."""
    descending = sort.startswith("-")
    key = SORT_KEYS.get(sort.lstrip("-"), SORT_KEYS["health"])
    present = [r for r in rows if key(r) is not None]
    absent = [r for r in rows if key(r) is None]
    return sorted(present, key=key, reverse=descending) + absent


@dataclass
class FleetOverview:
    rows: list[FleetRow]  # every live registry, unfiltered
    shown: list[FleetRow]  # filtered and sorted
    metrics: Batch
    counts: dict[Health, int]
    failed_runs: list[ReconcileRun]
    error_classes: list[dict[str, Any]]
    certificates: list[IngressBinding]
    filters: FleetFilter
    options: dict[str, list[str]] = field(default_factory=dict)

    @cached_property
    def page(self) -> Page:
        """The page of :attr:`shown` the filters ask for (the web table; the API pages with limit/offset)."""
        return Paginator(self.shown, PAGE_SIZE).get_page(self.filters.page)

    @property
    def strip(self) -> list[tuple[Health, int]]:
        return [(health, self.counts.get(health, 0)) for health in STRIP]

    @property
    def other_count(self) -> int:
        return self.counts.get(Health.OTHER, 0)

    @cached_property
    def near_quota_all(self) -> list[FleetRow]:
        rows = [r for r in self.rows if (r.storage_share or 0) >= NEAR_QUOTA]
        return sorted(rows, key=lambda r: -(r.storage_share or 0))

    @property
    def near_quota(self) -> list[FleetRow]:
        """The fullest tenants at or past 80 % of their quota (the panel shows ten; the table sorts the rest)."""
        return self.near_quota_all[:PANEL_ROWS]


# What the pages read of a registry (its plan comes prefetched: a handful of Plan rows shared by all).
REGISTRY_FIELDS = (
    "tenant",
    "plan",
    "name",
    "namespace",
    "hostname",
    "phase",
    "harbor_version",
    "conditions",
    "storage_quota_gib",
    "replicas",
    "trivy_enabled",
    "parallel_request_limit",
)


def registry_rows() -> QuerySet[Registry]:
    """Every live registry with its tenant's and cluster's names and its plan, in two SQL queries whatever the
    fleet's size; only the columns the pages read are loaded, since a fleet of thousands is read on every view."""
    return (
        Registry.objects.live()
        .only(*REGISTRY_FIELDS)
        .annotate(
            tenant_slug=F("tenant__slug"), tenant_name=F("tenant__name"), cluster_name=F("cluster__name")
        )
        .prefetch_related("plan")
        .order_by("tenant__slug", "name")
    )


def build_rows(registries: list[Registry], batch: Batch) -> list[FleetRow]:
    """Merge the registries with the fleet-wide query results, keyed by namespace."""
    health = batch["health"].by() if batch["health"].ok else {}
    not_ready = batch["pods_not_ready"].by() if batch["pods_not_ready"].ok else {}
    errors = batch["error_ratio"].by() if batch["error_ratio"].ok else {}
    latency = batch["mean_latency"].by() if batch["mean_latency"].ok else {}
    pulls = batch["pulls_per_day"].by() if batch["pulls_per_day"].ok else {}
    storage = batch["storage_used"].by() if batch["storage_used"].ok else {}
    down: dict[str, list[str]] = {}
    if batch["components_down"].ok:
        for sample in batch["components_down"].samples:
            down.setdefault(sample.labels.get("namespace", ""), []).append(
                sample.labels.get("component", "?")
            )
    versions: dict[str, str] = {}
    if batch["version"].ok:
        for sample in batch["version"].samples:
            versions[sample.labels.get("namespace", "")] = running_version(
                sample.labels.get("harbor_version", "")
            )
    rows = []
    for registry in registries:
        ns = registry.namespace
        effective = registry.effective()
        signals = Signals(
            health=health.get(ns),
            components_down=tuple(sorted(down.get(ns, ()))),
            pods_not_ready=not_ready.get(ns),
            error_ratio=errors.get(ns),
        )
        rows.append(
            FleetRow(
                registry_id=registry.pk,
                tenant_id=registry.tenant_id,
                tenant_slug=getattr(registry, "tenant_slug", ""),
                tenant_name=getattr(registry, "tenant_name", ""),
                name=registry.name,
                namespace=ns,
                hostname=registry.hostname,
                plan=registry.plan.name,
                plan_name=str(registry.plan),
                cluster=getattr(registry, "cluster_name", ""),
                phase=registry.phase,
                harbor_version=registry.harbor_version,
                storage_limit=effective.storage_quota_gib * GiB,
                parallel_limit=effective.parallel_request_limit,
                assessment=assess(registry.phase, signals, registry.problems()),
                running_version=versions.get(ns),
                error_ratio=errors.get(ns),
                mean_latency=latency.get(ns),
                pulls_per_day=pulls.get(ns),
                storage_used=storage.get(ns),
                pods_not_ready=not_ready.get(ns),
                components_down=signals.components_down,
            )
        )
    return rows


def running_version(label: str) -> str:
    """``v2.14.4-1a2b3c4d`` (as Harbor reports it) → ``2.14.4``."""
    return label.removeprefix("v").split("-", 1)[0]


def recent_failed_runs(limit: int = 10) -> list[ReconcileRun]:
    return list(
        ReconcileRun.objects.failed()
        .filter(registry__in=Registry.objects.live())
        .select_related("registry__tenant")
        .order_by("-requested_at", "-id")[:limit]
    )


def error_class_counts(hours: int = 24) -> list[dict[str, Any]]:
    """Failed runs of the last ``hours`` by error class and whose move it is, most frequent first."""
    since = timezone.now() - timedelta(hours=hours)
    return list(
        ReconcileRun.objects.failed()
        .filter(requested_at__gte=since)
        .values("error_class", "whose_move")
        .annotate(runs=Count("id"))
        .order_by("-runs", "error_class")
    )


def expiring_certificates(days: int = CERTIFICATE_WARNING_DAYS, limit: int = 20) -> list[IngressBinding]:
    """Certificates of live registries expiring within ``days`` (or expired), soonest first."""
    horizon = timezone.now() + timedelta(days=days)
    return list(
        IngressBinding.objects.filter(
            certificate_not_after__isnull=False,
            certificate_not_after__lte=horizon,
            registry__in=Registry.objects.live(),
        )
        .select_related("registry__tenant")
        .order_by("certificate_not_after")[:limit]
    )


def build_overview(filters: FleetFilter, source: PrometheusSource | None = None) -> FleetOverview:
    """The whole fleet overview: table rows, health strip and panels."""
    source = source or PrometheusSource.from_settings()
    batch = source.instant(fleet_promql())
    rows = build_rows(list(registry_rows()), batch)
    counts: dict[Health, int] = {}
    for row in rows:
        counts[row.health] = counts.get(row.health, 0) + 1
    shown = sort_rows([r for r in rows if filters.matches(r)], filters.sort)
    return FleetOverview(
        rows=rows,
        shown=shown,
        metrics=batch,
        counts=counts,
        failed_runs=recent_failed_runs(),
        error_classes=error_class_counts(),
        certificates=expiring_certificates(),
        filters=filters,
        options={
            "plan": sorted({r.plan for r in rows}),
            "version": sorted({r.harbor_version for r in rows}, key=version_key),
            "cluster": sorted({r.cluster for r in rows}),
        },
    )


def certificate_days_left(binding: IngressBinding, now: datetime | None = None) -> float | None:
    if binding.certificate_not_after is None:
        return None
    return (binding.certificate_not_after - (now or timezone.now())).total_seconds() / 86400
