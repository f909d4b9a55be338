"""One verdict on each registry's health, the same on every page, in the API and on ``/metrics``.

The verdict combines three views of a registry: what reconciliation found (phase and conditions, each with whose
move it is), what Prometheus says (Harbor's own health, components down, pods not ready, 5xx ratio, latency) and
what the console last observed of its cluster. :func:`assess` is the one rule; it is pure. It never answers
Healthy without evidence: metrics that cannot be read, a registry Prometheus has no series for, or a cluster the
console cannot reach make the verdict Unknown, with the reason.

Provisioning does not read Prometheus itself: the callable named by the ``HEALTH_METRICS_READER`` setting does
(the monitoring app's, wired in ``harborconsole/settings.py``). :func:`verdicts` asks it once for a whole page.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from provisioning.choices import ClusterHealth, ConditionType, DesiredState, Phase, WhoseMove
from provisioning.models import Cluster, Registry
from provisioning.models.clusters import ClusterHealthView

ERROR_RATIO_DEGRADED = 0.05
"""Share of 5xx answers from which a registry is degraded."""
LATENCY_DEGRADED = 2.0
"""Mean seconds of Harbor core's answers from which a registry is degraded (a slow registry still serves)."""
SERVING_COMPONENTS = frozenset({"core", "registry", "database"})
"""Without these Harbor serves nothing: one of them down makes the registry Down."""
REQUIRED_SIGNALS = {
    "health": "Harbor's own health (harbor_health)",
    "pods_not_ready": "pod readiness (kube_pod_status_ready)",
    "error_ratio": "the 5xx ratio (harbor_core_http_request_total)",
}
"""What Prometheus must hold for a serving registry before the console may call it Healthy."""

SERVING_PHASES = frozenset({Phase.READY, Phase.DEGRADED, Phase.FAILED})
"""Phases in which a registry is expected to serve, and so to have metrics."""


class Health(StrEnum):
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    DOWN = "Down"
    UNKNOWN = "Unknown"
    PROVISIONING = "Provisioning"
    UPGRADING = "Upgrading"
    OTHER = "Other"
    """Suspended or being deleted: not expected to serve."""

    @property
    def rank(self) -> int:
        """Worst first, for sorting."""
        return _RANK[self]

    @property
    def css(self) -> str:
        return self.value.lower()


HEALTH_CHOICES = [h.value for h in Health]

_RANK = {
    Health.DOWN: 0,
    Health.DEGRADED: 1,
    Health.UNKNOWN: 2,
    Health.UPGRADING: 3,
    Health.PROVISIONING: 4,
    Health.HEALTHY: 5,
    Health.OTHER: 6,
}


class Source(StrEnum):
    """Where a reason comes from."""

    CONSOLE = "console"
    METRICS = "metrics"
    CLUSTER = "cluster"


@dataclass(frozen=True)
class Reason:
    text: str
    whose_move: str = WhoseMove.NONE
    source: str = Source.CONSOLE


@dataclass(frozen=True)
class Verdict:
    """A registry's health with every reason for it, worst first."""

    health: Health
    reasons: tuple[Reason, ...] = ()

    @property
    def summary(self) -> str:
        return self.reasons[0].text if self.reasons else ""


@dataclass(frozen=True)
class Signals:
    """What Prometheus says of one registry; ``present`` names the signals it holds a series for."""

    health: float | None = None
    components_down: tuple[str, ...] = ()
    pods_not_ready: float | None = None
    error_ratio: float | None = None
    mean_latency: float | None = None
    present: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MetricsReading:
    """Prometheus's answer for a set of registries: a state, what a person should know, signals by namespace."""

    status: str
    """``ok``, ``error`` (some queries failed), ``unavailable`` or ``unconfigured``."""
    message: str = ""
    signals: Mapping[str, Signals] = field(default_factory=dict)
    failed: frozenset[str] = frozenset()
    """Signals whose query failed (their absence says nothing of the registries)."""
    missing_rules: str = ""
    """Set when the fleet reads recording rules that Prometheus does not hold."""

    @property
    def readable(self) -> bool:
        return self.status in ("ok", "error")


MetricsReader = Callable[[list[str]], MetricsReading]


def visible_problems(registry: Registry) -> list[dict[str, Any]]:
    """What a person should read: the registry's problems, minus being down when it was asked to be down."""
    stopped = registry.desired_state in (DesiredState.SUSPENDED, DesiredState.DELETED)
    return [
        c
        for c in registry.problems()
        if not (stopped and c.get("type") == ConditionType.AVAILABLE and not c.get("whose_move"))
    ]


def _console_reasons(registry: Registry) -> list[Reason]:
    """Conditions that say something is wrong; on a Ready registry only those that are not transient."""
    problems = visible_problems(registry)
    if registry.phase == Phase.READY:
        problems = [c for c in problems if c.get("whose_move") != WhoseMove.TRANSIENT]
    reasons = [
        Reason(
            f"{c.get('type')}: {c.get('message') or c.get('reason') or c.get('status')}",
            str(c.get("whose_move") or ""),
        )
        for c in problems
    ]
    if registry.phase == Phase.FAILED:
        move = next((r.whose_move for r in reasons if r.whose_move), WhoseMove.PROVIDER)
        reasons.insert(0, Reason("Reconciliation failed and waits for a person.", move))
    elif registry.phase == Phase.DEGRADED and not reasons:
        reasons.append(Reason("Reconciliation found the registry degraded without a condition saying why."))
    return reasons


def _cluster_reasons(cluster: ClusterHealthView, name: str) -> list[Reason]:
    if cluster.state == ClusterHealth.HEALTHY:
        return []
    states: dict[str, str] = {
        ClusterHealth.UNKNOWN: f"Cluster {name}'s state is unknown",
        ClusterHealth.UNREACHABLE: f"Cluster {name} is unreachable",
        ClusterHealth.DEGRADED: f"Cluster {name} lacks a prerequisite",
    }
    what = states.get(cluster.state, f"Cluster {name} is {cluster.state}")
    details = "; ".join(cluster.reasons)
    text = f"{what}: {details}" if details else f"{what}."
    return [Reason(text if text.endswith(".") else f"{text}.", WhoseMove.PROVIDER, Source.CLUSTER)]


def _metrics_reasons(signals: Signals) -> tuple[list[Reason], bool]:
    """What the metrics say is wrong, and whether a serving component is down."""
    reasons = []
    serving_down = sorted(set(signals.components_down) & SERVING_COMPONENTS)
    other_down = sorted(set(signals.components_down) - SERVING_COMPONENTS)
    for down in (serving_down, other_down):
        if down:
            reasons.append(
                Reason(f"Harbor reports {', '.join(down)} down.", WhoseMove.PROVIDER, Source.METRICS)
            )
    if signals.health is not None and signals.health < 1 and not serving_down:
        reasons.append(Reason("Harbor reports itself unhealthy.", WhoseMove.PROVIDER, Source.METRICS))
    if signals.pods_not_ready:
        reasons.append(
            Reason(f"{int(signals.pods_not_ready)} pod(s) not ready.", WhoseMove.PROVIDER, Source.METRICS)
        )
    if signals.error_ratio is not None and signals.error_ratio >= ERROR_RATIO_DEGRADED:
        reasons.append(
            Reason(
                f"{signals.error_ratio:.1%} of requests fail with 5xx.", WhoseMove.PROVIDER, Source.METRICS
            )
        )
    if signals.mean_latency is not None and signals.mean_latency >= LATENCY_DEGRADED:
        reasons.append(
            Reason(
                f"Requests take {signals.mean_latency:.1f} s on average.", WhoseMove.PROVIDER, Source.METRICS
            )
        )
    return reasons, bool(serving_down)


def _missing_evidence(namespace: str, metrics: MetricsReading) -> Reason | None:
    """Why the metrics cannot vouch for a serving registry, or None when they can."""
    if not metrics.readable:
        return Reason(metrics.message or "Metrics are unavailable.", WhoseMove.PROVIDER, Source.METRICS)
    signals = metrics.signals.get(namespace)
    if signals is None or not signals.present:
        return Reason(
            f"Prometheus has no series for namespace {namespace}: is its Harbor scraped?",
            WhoseMove.PROVIDER,
            Source.METRICS,
        )
    absent = [what for key, what in REQUIRED_SIGNALS.items() if key not in signals.present]
    if not absent:
        return None
    failed = any(key in metrics.failed for key in REQUIRED_SIGNALS if key not in signals.present)
    cause = "its query failed" if failed else metrics.missing_rules or "no series"
    return Reason(f"No figure for {', '.join(absent)} ({cause}).", WhoseMove.PROVIDER, Source.METRICS)


@dataclass(frozen=True)
class ClusterView:
    """A registry's cluster as the verdict needs it: its name and what the console last observed of it."""

    name: str
    health: ClusterHealthView


def assess(registry: Registry, metrics: MetricsReading, cluster: ClusterView) -> Verdict:
    """The registry's health and every reason for it, worst first (the one rule; pure)."""
    cluster_reasons = _cluster_reasons(cluster.health, cluster.name)
    cluster_unknown = cluster.health.state in (ClusterHealth.UNKNOWN, ClusterHealth.UNREACHABLE)
    console = _console_reasons(registry)
    if registry.phase in (Phase.PENDING, Phase.PROVISIONING, Phase.UPGRADING):
        health = Health.UPGRADING if registry.phase == Phase.UPGRADING else Health.PROVISIONING
        if cluster_unknown:
            return Verdict(Health.UNKNOWN, (*cluster_reasons, *console))
        return Verdict(health, (*console, *cluster_reasons))
    if registry.phase not in SERVING_PHASES:
        return Verdict(Health.OTHER)
    signals = metrics.signals.get(registry.namespace, Signals()) if metrics.readable else Signals()
    measured, serving_down = _metrics_reasons(signals)
    missing = _missing_evidence(registry.namespace, metrics)
    unknown = [missing] if missing else []
    if cluster_unknown:
        return Verdict(Health.UNKNOWN, (*cluster_reasons, *console, *measured, *unknown))
    if registry.phase == Phase.FAILED or serving_down:
        return Verdict(Health.DOWN, (*console, *measured, *cluster_reasons, *unknown))
    wrong = [*console, *measured, *cluster_reasons]
    if wrong:
        return Verdict(Health.DEGRADED, (*wrong, *unknown))
    if unknown:
        return Verdict(Health.UNKNOWN, tuple(unknown))
    return Verdict(Health.HEALTHY)


# --- reading what the verdict needs, for a page of registries ---------------------------------------------------


def unconfigured(namespaces: list[str]) -> MetricsReading:
    """The reader used when no other is wired: no metrics, so no Healthy."""
    return MetricsReading("unconfigured", "No metrics reader is configured: the console cannot see metrics.")


def metrics_reader() -> MetricsReader:
    path = getattr(settings, "HEALTH_METRICS_READER", "")
    reader: MetricsReader = import_string(path) if path else unconfigured
    return reader


def read_metrics(registries: Iterable[Registry]) -> MetricsReading:
    """Prometheus's signals for these registries' namespaces, through the configured reader."""
    namespaces = sorted({r.namespace for r in registries if r.phase in SERVING_PHASES})
    if not namespaces:
        return MetricsReading("ok")
    return metrics_reader()(namespaces)


OBSERVATION_FIELDS = (
    "name",
    "display_name",
    "region",
    "simulated",
    "api_reachable",
    "api_version",
    "api_latency_ms",
    "last_contact_at",
    "last_error",
    "last_error_at",
    "last_list_at",
    "last_watch_at",
    "prerequisites",
    "prerequisites_checked_at",
)
"""What pages show of a cluster's health (:meth:`Cluster.health` reads a part of it); never a credential."""


def observed_clusters() -> QuerySet[Cluster]:
    return Cluster.objects.only(*OBSERVATION_FIELDS).order_by("name")


def cluster_views(cluster_ids: Iterable[int]) -> dict[int, ClusterView]:
    """The clusters of a page of registries, in one query whatever the number of registries."""
    clusters = observed_clusters().filter(pk__in=set(cluster_ids))
    return {c.pk: ClusterView(c.name, c.health()) for c in clusters}


def verdicts(
    registries: list[Registry],
    metrics: MetricsReading | None = None,
    clusters: Mapping[int, ClusterView] | None = None,
) -> dict[int, Verdict]:
    """The verdict of each registry by id: the metrics read once for all of them; their clusters as loaded
    with them (``select_related``) or in one query, unless given."""
    metrics = read_metrics(registries) if metrics is None else metrics
    if clusters is None:
        loaded = all(Registry.cluster.is_cached(r) for r in registries)
        clusters = (
            {r.cluster_id: ClusterView(r.cluster.name, r.cluster.health()) for r in registries}
            if loaded
            else cluster_views(r.cluster_id for r in registries)
        )
    return {r.pk: assess(r, metrics, clusters[r.cluster_id]) for r in registries}


def verdict_of(registry: Registry) -> Verdict:
    return verdicts([registry])[registry.pk]
