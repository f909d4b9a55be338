"""The business dashboard: how much the fleet stores and serves, how it grows, who uses most, who nears a limit.

Figures come from fleet-wide queries aggregated by namespace (one per figure) joined with the registries' plans;
totals are sums over the console's registries, so a namespace Prometheus knows but the console does not is left
out. Growth and pulls over the period count over the data that exists: a registry younger than the period gets
its figure since its first sample, and the dashboard says so (:mod:`monitoring.period_totals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitoring import period_totals, queries
from monitoring.charts import Chart, Line
from monitoring.fleet import registry_rows
from monitoring.health import NEAR_QUOTA
from monitoring.prometheus import Batch, PrometheusSource, Result
from monitoring.ranges import Period
from monitoring.units import Unit
from provisioning.models import Registry, Tenant

GiB = 1024**3
TOP = 20

# figure → (catalogue query, period: None = the dashboard's period, or a fixed one)
FIGURES: dict[str, tuple[str, str | None]] = {
    "storage": ("storage_used", "-"),
    "projects": ("projects", "-"),
    "repositories": ("repositories", "-"),
    "artifacts": ("artifacts", "-"),
    "pulls_per_day": ("pulls", "1d"),
    "pushes_per_day": ("pushes", "1d"),
    "forecast": ("storage_forecast", "-"),
    "growth": ("storage_growth", None),
    "pulls": ("pulls", None),
    "egress": ("egress", None),
    "peak_inflight": ("peak_inflight", None),
}
CONSUMER_SORTS = {
    "storage": "Storage",
    "growth": "Growth",
    "pulls": "Pulls",
    "egress": "Egress",
    "peak_share": "Peak parallel requests",
}
TOTAL_STORAGE = 'sum(harbor_project_quota_usage_byte{namespace!=""})'
# figures over a period that count over the data that exists → (young-series query, its period: None = the
# dashboard's)
OVER_PERIOD: dict[str, tuple[str, str | None]] = {
    "growth": ("storage_growth", None),
    "pulls": ("pulls", None),
    "pulls_per_day": ("pulls", "1d"),
}


@dataclass
class Consumer:
    """One registry's business figures over the period."""

    registry_id: int
    tenant_slug: str
    tenant_name: str
    name: str
    namespace: str
    plan: str
    plan_name: str
    phase: str
    storage_limit: int
    parallel_limit: int
    figures: dict[str, float | None]
    since: dict[str, float] = field(default_factory=dict)
    """Per figure over a period: when its count starts, for a registry younger than the period."""

    @property
    def history_since(self) -> float | None:
        """When this registry's data starts, if that is within the dashboard's period."""
        return min(self.since.values()) if self.since else None

    @property
    def storage_share(self) -> float | None:
        used = self.figures.get("storage")
        return None if used is None or not self.storage_limit else used / self.storage_limit

    @property
    def peak_share(self) -> float | None:
        peak = self.figures.get("peak_inflight")
        return None if peak is None or not self.parallel_limit else peak / self.parallel_limit

    @property
    def forecast_share(self) -> float | None:
        forecast = self.figures.get("forecast")
        return None if forecast is None or not self.storage_limit else forecast / self.storage_limit

    def sort_value(self, key: str) -> float | None:
        return self.peak_share if key == "peak_share" else self.figures.get(key)


@dataclass
class PlanMix:
    plan: str
    plan_name: str
    registries: int
    storage: float
    storage_limit: int

    @property
    def share(self) -> float | None:
        return self.storage / self.storage_limit if self.storage_limit else None


@dataclass
class BusinessDashboard:
    period: Period
    sort: str
    consumers: list[Consumer]
    metrics: Batch
    tenants: int
    phases: dict[str, int]
    plan_mix: list[PlanMix]
    storage_chart: Chart
    totals: dict[str, float | None] = field(default_factory=dict)

    @property
    def short_history(self) -> list[Consumer]:
        """Registries whose growth or pulls count over less than the period (they are younger)."""
        return [c for c in self.consumers if c.history_since is not None]

    @property
    def earliest_data(self) -> float | None:
        starts = [c.history_since for c in self.short_history if c.history_since is not None]
        return min(starts) if starts else None

    @property
    def top(self) -> list[Consumer]:
        present = [c for c in self.consumers if c.sort_value(self.sort) is not None]
        return sorted(present, key=lambda c: -(c.sort_value(self.sort) or 0))[:TOP]

    @property
    def near_quota(self) -> list[Consumer]:
        rows = [c for c in self.consumers if (c.storage_share or 0) >= NEAR_QUOTA]
        return sorted(rows, key=lambda c: -(c.storage_share or 0))

    @property
    def peak_parallel(self) -> list[Consumer]:
        rows = [c for c in self.consumers if c.peak_share is not None]
        return sorted(rows, key=lambda c: -(c.peak_share or 0))[:10]


def business_promql(period: Period) -> dict[str, str]:
    out = {}
    for figure, (key, fixed) in FIGURES.items():
        query = queries.get(key)
        chosen = period.key if fixed is None else (None if fixed == "-" else fixed)
        out[figure] = query.promql(queries.FLEET_SELECTOR, period=chosen)
    return out


def young_figures(source: PrometheusSource, period: Period, at: float) -> dict[str, Result]:
    """For each figure over a period, the series younger than its period (two range queries at most: the
    dashboard's period, and a day)."""
    out: dict[str, Result] = {}
    for length in {period.key if fixed is None else fixed for _, fixed in OVER_PERIOD.values()}:
        chosen = {
            figure: period_totals.young_promql(key, queries.FLEET_SELECTOR, length, at)
            for figure, (key, fixed) in OVER_PERIOD.items()
            if (period.key if fixed is None else fixed) == length
        }
        spec = period_totals.young_spec(period_totals.seconds(length), at)
        out.update(source.range(chosen, spec).results)
    return out


def _consumers(
    registries: list[Registry], batch: Batch, young: dict[str, Result] | None = None
) -> list[Consumer]:
    values = {name: (result.by() if result.ok else {}) for name, result in batch.results.items()}
    since: dict[str, dict[str, float]] = {}
    for figure, result in (young or {}).items():
        key = OVER_PERIOD[figure][0]
        values[figure], since[figure] = period_totals.merge(
            values[figure], period_totals.young_by_namespace(key, result)
        )
    consumers = []
    for registry in registries:
        effective = registry.effective()
        consumers.append(
            Consumer(
                registry_id=registry.pk,
                tenant_slug=getattr(registry, "tenant_slug", ""),
                tenant_name=getattr(registry, "tenant_name", ""),
                name=registry.name,
                namespace=registry.namespace,
                plan=registry.plan.name,
                plan_name=str(registry.plan),
                phase=registry.phase,
                storage_limit=effective.storage_quota_gib * GiB,
                parallel_limit=effective.parallel_request_limit,
                figures={figure: values[figure].get(registry.namespace) for figure in FIGURES},
                since={
                    figure: starts[registry.namespace]
                    for figure, starts in since.items()
                    if registry.namespace in starts
                },
            )
        )
    return consumers


def _plan_mix(registries: list[Registry], consumers: list[Consumer]) -> list[PlanMix]:
    mix: dict[str, PlanMix] = {}
    for registry, consumer in zip(registries, consumers, strict=True):
        entry = mix.setdefault(registry.plan.name, PlanMix(registry.plan.name, str(registry.plan), 0, 0.0, 0))
        entry.registries += 1
        entry.storage += consumer.figures.get("storage") or 0.0
        entry.storage_limit += consumer.storage_limit
    return sorted(mix.values(), key=lambda m: m.storage_limit)


def build_business(
    period: Period, sort: str = "storage", source: PrometheusSource | None = None
) -> BusinessDashboard:
    source = source or PrometheusSource.from_settings()
    batch = source.instant(business_promql(period))
    readable = batch.status not in ("unavailable", "unconfigured")
    young = young_figures(source, period, batch.evaluated_at) if readable else None
    registries = list(registry_rows())
    consumers = _consumers(registries, batch, young)
    spec = period.spec(batch.evaluated_at)
    chart = Chart("storage_total", "Storage used by the fleet", Unit.BYTES, spec.start, spec.end)
    if readable:
        series = source.range({"total": TOTAL_STORAGE}, spec)["total"]
        for s in series.series if series.ok else []:
            chart.lines.append(Line("All tenants", s.points))
    phases: dict[str, int] = {}
    for registry in registries:
        phases[registry.phase] = phases.get(registry.phase, 0) + 1
    totals: dict[str, float | None] = {}
    for figure in FIGURES:
        present = [c.figures[figure] for c in consumers if c.figures.get(figure) is not None]
        totals[figure] = sum(v for v in present if v is not None) if present else None
    totals["storage_limit"] = float(sum(c.storage_limit for c in consumers))
    return BusinessDashboard(
        period=period,
        sort=sort if sort in CONSUMER_SORTS else "storage",
        consumers=consumers,
        metrics=batch,
        tenants=Tenant.objects.count(),
        phases=phases,
        plan_mix=_plan_mix(registries, consumers),
        storage_chart=chart,
        totals=totals,
    )
