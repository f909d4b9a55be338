"""One registry's drill-down: every catalogue figure now, charts over a period, component chips, conditions.

All queries select the registry's namespace; they run in parallel under the source's one deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitoring import period_totals, queries
from monitoring.charts import Chart, Line
from monitoring.fleet import GiB, running_version
from monitoring.health import NEAR_QUOTA
from monitoring.prometheus import Batch, PrometheusSource, Result
from monitoring.queries import Group, Query
from monitoring.ranges import Period
from monitoring.units import Unit
from provisioning.models import Registry

# Periods of the figures that are totals "over the last …" on the drill-down.
FIGURE_PERIODS = {
    "restarts": "1h",
    "job_failures": "1h",
    "pulls": "1d",
    "pushes": "1d",
    "egress": "1d",
    "storage_growth": "7d",
    "peak_inflight": "1d",
}


@dataclass(frozen=True)
class ChartDef:
    key: str
    group: Group
    title: str
    unit: Unit
    lines: tuple[
        tuple[str, str], ...
    ]  # (catalogue query, legend) — a query by extra labels gives one line each
    limit: str = ""  # "storage" or "parallel": the plan limit drawn as a dashed line


CHARTS: tuple[ChartDef, ...] = (
    ChartDef("cpu", Group.PLATFORM, "CPU", Unit.CORES, (("cpu", "CPU"),)),
    ChartDef("memory", Group.PLATFORM, "Memory", Unit.BYTES, (("memory", "Working set"),)),
    ChartDef("pods", Group.PLATFORM, "Pods not ready", Unit.COUNT, (("pods_not_ready", "Not ready"),)),
    ChartDef(
        "ingress_errors", Group.PLATFORM, "Ingress 5xx ratio", Unit.RATIO, (("ingress_error_ratio", "5xx"),)
    ),
    ChartDef("requests", Group.APPLICATION, "Requests", Unit.PER_SECOND, (("request_rate", "Requests"),)),
    ChartDef("errors", Group.APPLICATION, "5xx ratio", Unit.RATIO, (("error_ratio", "5xx"),)),
    ChartDef("latency", Group.APPLICATION, "Mean latency", Unit.SECONDS, (("mean_latency", "Mean"),)),
    ChartDef(
        "registry_p95", Group.APPLICATION, "Registry p95 latency", Unit.SECONDS, (("registry_p95", ""),)
    ),
    ChartDef(
        "traffic",
        Group.APPLICATION,
        "Pulls and pushes",
        Unit.PER_SECOND,
        (("pull_rate", "Pulls"), ("push_rate", "Pushes")),
    ),
    ChartDef(
        "storage", Group.BUSINESS, "Storage used", Unit.BYTES, (("storage_used", "Used"),), limit="storage"
    ),
    ChartDef("artifacts", Group.BUSINESS, "Artifacts", Unit.COUNT, (("artifacts", "Artifacts"),)),
    ChartDef("egress", Group.BUSINESS, "Blob egress", Unit.BYTES_PER_SECOND, (("egress_rate", "Egress"),)),
    ChartDef(
        "inflight",
        Group.BUSINESS,
        "Parallel requests",
        Unit.COUNT,
        (("inflight", "In flight"),),
        limit="parallel",
    ),
)
CHARTS_BY_KEY = {c.key: c for c in CHARTS}

PANEL_FIGURES = (
    "health",
    "components",
    "error_ratio",
    "mean_latency",
    "pulls",
    "storage_used",
    "peak_inflight",
)


@dataclass
class Figure:
    """One catalogue query's current result for the registry: a value, or one value per extra label.

    A figure over a period of a registry younger than the period counts since its first data (``since``)."""

    query: Query
    period: str | None
    result: Result
    over_existing: float | None = None
    since: float | None = None

    @property
    def values(self) -> list[tuple[str, float | None]]:
        if not self.result.ok:
            return []
        extra = self.query.by
        out: list[tuple[str, float | None]] = []
        for sample in self.result.samples:
            name = ", ".join(sample.labels.get(label, "") for label in extra)
            if self.query.unit == Unit.LABEL:
                out.append((name, None))
            else:
                out.append((name, sample.value))
        return sorted(out)

    @property
    def value(self) -> float | None:
        """The single value of a query without extra labels (None when absent)."""
        if self.over_existing is not None:
            return self.over_existing
        if not self.result.ok or self.query.by or not self.result.samples:
            return None
        return self.result.samples[0].value

    @property
    def label_value(self) -> str | None:
        """For label queries (the running version): the label's value."""
        if not self.result.ok or not self.result.samples or not self.query.by:
            return None
        return self.result.samples[0].labels.get(self.query.by[0])


@dataclass
class Limits:
    storage_bytes: int
    parallel_requests: int

    @classmethod
    def of(cls, registry: Registry) -> Limits:
        effective = registry.effective()
        return cls(effective.storage_quota_gib * GiB, effective.parallel_request_limit)


@dataclass
class Drilldown:
    registry: Registry
    limits: Limits
    figures: dict[str, Figure]
    metrics: Batch
    charts: list[Chart] = field(default_factory=list)
    chart_metrics: Batch | None = None
    period: Period | None = None

    def group(self, group: Group) -> list[Figure]:
        return [f for f in self.figures.values() if f.query.group == group]

    def groups(self) -> list[tuple[Group, list[Figure], list[Chart]]]:
        return [
            (g, self.group(g), [c for c in self.charts if CHARTS_BY_KEY[c.key].group == g]) for g in Group
        ]

    @property
    def components(self) -> list[tuple[str, float | None]]:
        figure = self.figures.get("components")
        return figure.values if figure else []

    @property
    def running_version(self) -> str | None:
        figure = self.figures.get("version")
        label = figure.label_value if figure else None
        return running_version(label) if label else None

    def figure_value(self, key: str) -> float | None:
        figure = self.figures.get(key)
        return figure.value if figure else None

    @property
    def storage_share(self) -> float | None:
        used = self.figure_value("storage_used")
        return None if used is None else used / self.limits.storage_bytes

    @property
    def near_quota(self) -> bool:
        return (self.storage_share or 0) >= NEAR_QUOTA

    @property
    def peak_share(self) -> float | None:
        peak = self.figure_value("peak_inflight")
        return None if peak is None else peak / self.limits.parallel_requests


def figure_promql(namespace: str, keys: tuple[str, ...] | None = None) -> dict[str, str]:
    chosen = [queries.get(k) for k in keys] if keys else list(queries.CATALOGUE)
    return {q.key: q.for_namespace(namespace, period=FIGURE_PERIODS.get(q.key)) for q in chosen}


def chart_promql(namespace: str, period: Period, keys: tuple[str, ...] | None = None) -> dict[str, str]:
    """One range query per chart line: ``{"<chart>:<query>": promql}``."""
    out = {}
    for chart in CHARTS:
        if keys and chart.key not in keys:
            continue
        for query_key, _legend in chart.lines:
            out[f"{chart.key}:{query_key}"] = queries.get(query_key).for_namespace(
                namespace, window=period.window
            )
    return out


def current_figures(
    registry: Registry, source: PrometheusSource, keys: tuple[str, ...] | None = None
) -> tuple[dict[str, Figure], Batch]:
    batch = source.instant(figure_promql(registry.namespace, keys))
    figures = {
        key: Figure(queries.get(key), FIGURE_PERIODS.get(key), result)
        for key, result in batch.results.items()
    }
    if batch.status not in ("unavailable", "unconfigured"):
        count_over_existing(registry.namespace, figures, source, batch.evaluated_at)
    return figures, batch


def count_over_existing(
    namespace: str, figures: dict[str, Figure], source: PrometheusSource, at: float
) -> None:
    """Figures over a period (pulls, growth) of a registry younger than the period: since its first data."""
    selector = queries.namespace_selector(namespace)
    for key in ("pulls", "storage_growth"):
        figure = figures.get(key)
        if figure is None or figure.period is None:
            continue
        promql = period_totals.young_promql(key, selector, figure.period, at)
        spec = period_totals.young_spec(period_totals.seconds(figure.period), at)
        young = period_totals.young_by_namespace(key, source.range({key: promql}, spec)[key])
        whole: dict[str, float | None] = {namespace: figure.value} if figure.value is not None else {}
        values, since = period_totals.merge(whole, young)
        if namespace in young:
            figure.over_existing, figure.since = values.get(namespace), since.get(namespace)


def build_charts(
    registry: Registry,
    limits: Limits,
    period: Period,
    source: PrometheusSource,
    keys: tuple[str, ...] | None = None,
) -> tuple[list[Chart], Batch]:
    spec = period.spec(source.evaluation_time())
    batch = source.range(chart_promql(registry.namespace, period, keys), spec)
    charts = []
    for definition in CHARTS:
        if keys and definition.key not in keys:
            continue
        chart = Chart(definition.key, definition.title, definition.unit, spec.start, spec.end)
        for query_key, legend in definition.lines:
            result = batch[f"{definition.key}:{query_key}"]
            query = queries.get(query_key)
            for series in result.series if result.ok else []:
                extra = ", ".join(series.labels.get(label, "") for label in query.by)
                label = " ".join(part for part in (legend, extra) if part)
                chart.lines.append(Line(label or query.title, series.points))
        if definition.limit == "storage":
            chart.limit, chart.limit_label = float(limits.storage_bytes), "Plan storage limit"
        elif definition.limit == "parallel":
            chart.limit, chart.limit_label = float(limits.parallel_requests), "Plan parallel-request limit"
        charts.append(chart)
    return charts, batch


def build_drilldown(registry: Registry, period: Period, source: PrometheusSource | None = None) -> Drilldown:
    source = source or PrometheusSource.from_settings()
    limits = Limits.of(registry)
    figures, batch = current_figures(registry, source)
    drilldown = Drilldown(registry=registry, limits=limits, figures=figures, metrics=batch, period=period)
    if batch.status != "unavailable" and batch.status != "unconfigured":
        drilldown.charts, drilldown.chart_metrics = build_charts(registry, limits, period, source)
    return drilldown


def build_panel(registry: Registry, period: Period, source: PrometheusSource | None = None) -> Drilldown:
    """The compact view the registry page embeds: chips, key figures and the request chart."""
    source = source or PrometheusSource.from_settings()
    limits = Limits.of(registry)
    figures, batch = current_figures(registry, source, PANEL_FIGURES)
    drilldown = Drilldown(registry=registry, limits=limits, figures=figures, metrics=batch, period=period)
    if batch.ok or batch.status == "error":
        drilldown.charts, drilldown.chart_metrics = build_charts(
            registry, limits, period, source, keys=("requests",)
        )
    return drilldown
