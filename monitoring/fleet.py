"""The fleet overview: every tenant's registry with its health verdict and key figures, and the panels support
staff watch (failed reconciliations, expiring certificates, tenants near quota, clusters).

The cost does not grow with the fleet: one Prometheus query per column for the whole fleet (aggregated by
namespace, see :data:`COLUMNS`) sent at once and answered while the SQL queries (a fixed handful) run, and a range
query for the pulls of registries younger than a day, over those registries only, when there are some. Rows are
merged, filtered, sorted and paged in Python, because half of the sortable columns come from Prometheus. Each
row's health is :func:`provisioning.health.assess`, as everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, F, Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from monitoring import period_totals, queries
from monitoring.health import NEAR_QUOTA, SIGNAL_COLUMNS, STRIP, reading, signal_promql
from monitoring.prometheus import Batch, PrometheusSource, Result, Status
from monitoring.units import Unit
from provisioning.health import (
    OBSERVATION_FIELDS,
    ClusterView,
    Health,
    MetricsReading,
    Reason,
    Verdict,
    assess,
    observed_clusters,
)
from provisioning.models import Cluster, IngressBinding, ReconcileRun, Registry
from provisioning.services.placement import PLACEMENT_FIELDS, ClusterUse, cluster_uses

GiB = 1024**3
PAGE_SIZE = 50
PANEL_ROWS = 10
CERTIFICATE_WARNING_DAYS = 21
CLUSTER_ORDER = {"Unreachable": 0, "Unknown": 1, "Degraded": 2, "Healthy": 3}  # worst first

# column → (catalogue query, period)
COLUMNS: dict[str, tuple[str, str | None]] = {
    **SIGNAL_COLUMNS,
    "pulls_per_day": ("pulls", "1d"),
    "storage_used": ("storage_used", None),
    "version": ("version", None),
}
PULLS_PERIOD = "1d"
UNITS = {
    "error_ratio": Unit.RATIO,
    "mean_latency": Unit.SECONDS,
    "pulls_per_day": Unit.PER_DAY,
    "storage_used": Unit.BYTES,
}


YOUNG_PULLS = "pulls_young"
"""The batch's query naming the namespaces with pull counts younger than a day."""
MAX_YOUNG_NAMESPACES = 200
"""Beyond this many young namespaces the range query reads the whole fleet (a shorter query string)."""


def fleet_promql(recorded: bool | None = None) -> dict[str, str]:
    """The PromQL of every column, for the whole fleet (the health signals from the recording rules when the
    console is told to read them, with the check that Prometheus holds them), and which namespaces have pull
    counts younger than a day."""
    out = signal_promql(queries.FLEET_SELECTOR, recorded)
    for column, (key, period) in COLUMNS.items():
        if column not in SIGNAL_COLUMNS:
            out[column] = queries.get(key).promql(queries.FLEET_SELECTOR, period=period)
    out[YOUNG_PULLS] = period_totals.young_namespaces_promql("pulls", queries.FLEET_SELECTOR, PULLS_PERIOD)
    return out


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
    verdict: Verdict
    running_version: str | None = None
    error_ratio: float | None = None
    mean_latency: float | None = None
    pulls_per_day: float | None = None
    pulls_since: float | None = None
    """When the registry's pull counts start, if it is younger than a day."""
    storage_used: float | None = None
    pods_not_ready: float | None = None
    components_down: tuple[str, ...] = ()

    @property
    def health(self) -> Health:
        return self.verdict.health

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return self.verdict.reasons

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


@dataclass(frozen=True)
class FailedRegistry:
    """A registry's latest failed reconciliation, and how many of its kept runs failed (retries included)."""

    run: ReconcileRun
    failed_runs: int


@dataclass(frozen=True)
class ClusterRow:
    cluster: Cluster
    view: ClusterView
    registries: int
    use: ClusterUse | None = None

    @property
    def state(self) -> str:
        return self.view.health.state


@dataclass
class FleetOverview:
    rows: list[FleetRow]  # every live registry, unfiltered
    shown: list[FleetRow]  # filtered and sorted
    metrics: Batch
    reading: MetricsReading
    counts: dict[Health, int]
    failed: list[FailedRegistry]
    error_classes: list[dict[str, Any]]
    certificates: list[IngressBinding]
    clusters: list[ClusterRow]
    filters: FleetFilter
    options: dict[str, list[Any]] = field(default_factory=dict)

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

    @property
    def rules_missing(self) -> str:
        """The banner text when the recording rules the fleet reads are not loaded."""
        return self.reading.message if self.reading.missing_rules else ""

    @cached_property
    def near_quota_all(self) -> list[FleetRow]:
        rows = [r for r in self.rows if (r.storage_share or 0) >= NEAR_QUOTA]
        return sorted(rows, key=lambda r: -(r.storage_share or 0))

    @property
    def near_quota(self) -> list[FleetRow]:
        """The fullest tenants at or past 80 % of their quota (the panel shows ten; the table sorts the rest)."""
        return self.near_quota_all[:PANEL_ROWS]

    @property
    def short_pull_history(self) -> int:
        """Registries whose pulls per day count less than a day (younger than that)."""
        return sum(1 for r in self.rows if r.pulls_since is not None)


# What the pages read of a registry (its plan comes prefetched: a handful of Plan rows shared by all).
REGISTRY_FIELDS = (
    "tenant",
    "plan",
    "cluster",
    "name",
    "namespace",
    "hostname",
    "phase",
    "desired_state",
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


def young_pulls(source: PrometheusSource, batch: Batch) -> Result | None:
    """Pull counts of the projects younger than a day (see :mod:`monitoring.period_totals`): a range query over
    the namespaces the batch found holding some (none when there are none); over the whole fleet when the batch
    could not tell which."""
    if batch.status in (Status.UNAVAILABLE, Status.UNCONFIGURED):
        return None
    found = batch[YOUNG_PULLS]
    selector = queries.FLEET_SELECTOR
    if found.ok:
        namespaces = sorted(ns for ns in found.by() if ns)
        if not namespaces:
            return None
        if len(namespaces) <= MAX_YOUNG_NAMESPACES:
            selector = period_totals.namespaces_selector(namespaces) or queries.FLEET_SELECTOR
    at = batch.evaluated_at
    spec = period_totals.young_spec(period_totals.seconds(PULLS_PERIOD), at)
    promql = period_totals.young_promql("pulls", selector, PULLS_PERIOD, at)
    return source.range({"young": promql}, spec)["young"]


def build_rows(
    registries: list[Registry],
    batch: Batch,
    clusters: dict[int, ClusterView],
    young: Result | None = None,
) -> tuple[list[FleetRow], MetricsReading]:
    """Merge the registries with the fleet-wide query results (keyed by namespace) and give each its verdict."""
    metrics = reading(batch)
    latency = batch["mean_latency"].by() if batch["mean_latency"].ok else {}
    storage = batch["storage_used"].by() if batch["storage_used"].ok else {}
    pulls_whole = batch["pulls_per_day"].by() if batch["pulls_per_day"].ok else {}
    young_by_ns = period_totals.young_by_namespace("pulls", young) if young is not None else {}
    pulls, pulls_since = period_totals.merge(pulls_whole, young_by_ns)
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
        signals = metrics.signals.get(ns)
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
                verdict=assess(registry, metrics, clusters[registry.cluster_id]),
                running_version=versions.get(ns),
                error_ratio=signals.error_ratio if signals else None,
                mean_latency=latency.get(ns),
                pulls_per_day=pulls.get(ns),
                pulls_since=pulls_since.get(ns),
                storage_used=storage.get(ns),
                pods_not_ready=signals.pods_not_ready if signals else None,
                components_down=signals.components_down if signals else (),
            )
        )
    return rows, metrics


def running_version(label: str) -> str:
    """``v2.14.4-1a2b3c4d`` (as Harbor reports it) → ``2.14.4``."""
    return label.removeprefix("v").split("-", 1)[0]


def failed_registries(limit: int = 10) -> list[FailedRegistry]:
    """Live registries with failed reconciliations, most recent failure first: each once, with its latest failed
    run and how many of its runs failed (every retry is a run of its own). One SQL query."""
    failed = ReconcileRun.objects.failed()
    latest = (
        failed.filter(registry__in=Registry.objects.live())
        .values("registry_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    count = (
        failed.filter(registry_id=OuterRef("registry_id"))
        .order_by()
        .values("registry_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    runs = (
        ReconcileRun.objects.filter(pk__in=Subquery(latest))
        .select_related("registry__tenant")
        .annotate(failed_runs=Subquery(count))
        .order_by("-id")[:limit]
    )
    return [FailedRegistry(run, run.failed_runs) for run in runs]  # type: ignore[attr-defined]


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
    answers = source.start_instant(fleet_promql())  # Prometheus works while the database is read
    registries = list(registry_rows())
    clusters = list(observed_clusters().only(*OBSERVATION_FIELDS, *PLACEMENT_FIELDS))
    uses = cluster_uses(clusters)
    views = {c.pk: ClusterView(c.name, c.health()) for c in clusters}
    failed, error_classes, certificates = failed_registries(), error_class_counts(), expiring_certificates()
    batch = answers()
    rows, metrics = build_rows(registries, batch, views, young_pulls(source, batch))
    counts: dict[Health, int] = {}
    per_cluster: dict[int, int] = {}
    for registry, row in zip(registries, rows, strict=True):
        counts[row.health] = counts.get(row.health, 0) + 1
        per_cluster[registry.cluster_id] = per_cluster.get(registry.cluster_id, 0) + 1
    shown = sort_rows([r for r in rows if filters.matches(r)], filters.sort)
    return FleetOverview(
        rows=rows,
        shown=shown,
        metrics=batch,
        reading=metrics,
        counts=counts,
        failed=failed,
        error_classes=error_classes,
        certificates=certificates,
        clusters=sorted(
            (ClusterRow(c, views[c.pk], per_cluster.get(c.pk, 0), uses[c.pk]) for c in clusters),
            key=lambda r: (CLUSTER_ORDER.get(r.state, len(CLUSTER_ORDER)), r.cluster.name),
        ),
        filters=filters,
        options={
            "plan": plan_options(registries),
            "version": sorted({r.harbor_version for r in rows}, key=version_key),
            "cluster": sorted({r.cluster for r in rows}),
        },
    )


def plan_options(registries: list[Registry]) -> list[tuple[str, str]]:
    """(name, display name) of the fleet's plans, smallest first: the filter shows names people use."""
    plans = {r.plan.name: r.plan for r in registries}
    return [(p.name, str(p)) for p in sorted(plans.values(), key=lambda p: (p.storage_quota_gib, p.name))]


def certificate_days_left(binding: IngressBinding, now: datetime | None = None) -> float | None:
    if binding.certificate_not_after is None:
        return None
    return (binding.certificate_not_after - (now or timezone.now())).total_seconds() / 86400
