"""The console's own ``/metrics`` for Prometheus, read from the database at scrape time by one custom collector.

Exported (every family prefixed ``harborconsole_``):

- ``tenants`` — tenants known to the console;
- ``registries{plan, phase}`` — registries by plan and phase;
- ``registry_info{namespace, tenant, registry, plan, cluster, harbor_version, phase}`` — 1 per live registry;
- ``registry_storage_limit_bytes{namespace}`` and ``registry_parallel_request_limit{namespace}`` — each live
  registry's plan limits (overrides applied), so PromQL can set usage against them, e.g.
  ``sum by (namespace) (harbor_project_quota_usage_byte) / on (namespace) harborconsole_registry_storage_limit_bytes``;
- ``registry_health{namespace, health}`` — 1 per live registry, labelled with its health verdict (the one the
  pages and the API show: :func:`provisioning.health.assess`), and ``registries_by_health{health}`` — how many
  registries have each verdict (every verdict listed, 0 included);
- ``reconcile_runs_finished_total{status, error_class}`` — a real counter of finished runs (succeeded, failed,
  skipped): the runs recorded plus those the daily history pruning deleted (:class:`PrunedRuns`) plus the quiet
  sweep runs counted on each registry (``Registry.quiet_runs``), so it never falls;
- ``reconcile_duration_seconds{status}`` — a histogram of the durations of the finished runs recorded;
- ``reconcile_queue_depth{queue, status}`` — a gauge of the runs queued or running now, per cluster queue;
- ``broker_queue_length{queue}`` — messages waiting in each cluster queue of a Redis broker.

The collector runs a fixed number of SQL queries whatever the fleet's size (nine), and the health signals' few
Prometheus queries (cached, shared with the fleet overview).

Access (:func:`allowed`): a request bearing ``Authorization: Bearer <METRICS_TOKEN>`` — the way Prometheus
scrapes (``authorization: {credentials_file: …}`` in its scrape config) — or a logged-in user whose role may view.
With no ``METRICS_TOKEN`` set, only logged-in users can read it.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum, Value
from prometheus_client import PlatformCollector, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from monitoring.fleet import registry_rows
from provisioning.choices import RunStatus
from provisioning.health import OBSERVATION_FIELDS, ClusterView, Health, observed_clusters, verdicts
from provisioning.models import Cluster, PrunedRuns, ReconcileRun, Registry, Tenant
from provisioning.permissions import can

log = logging.getLogger(__name__)

GiB = 1024**3
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
FINISHED = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED)


def metrics_token() -> str:
    """The bearer token Prometheus sends to ``/metrics`` (setting ``METRICS_TOKEN``; empty: login only)."""
    return str(settings.METRICS_TOKEN)


def bearer(request: Any) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def allowed(request: Any) -> tuple[bool, int]:
    """(allowed, status if refused): 401 without valid credentials, 403 for a logged-in user without a role."""
    token = bearer(request)
    expected = metrics_token()
    if token is not None:
        return (True, 200) if expected and hmac.compare_digest(token, expected) else (False, 401)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return (True, 200) if can(user, "view") else (False, 403)
    return False, 401


class ConsoleCollector(Collector):
    """Reads the console's state at each scrape."""

    def collect(self) -> Iterator[Metric]:
        clusters = list(observed_clusters().only(*OBSERVATION_FIELDS, "queue"))
        yield from self._tenants_and_registries()
        yield from self._limits(clusters)
        yield from self._runs()
        yield from self._durations()
        yield from self._queues(clusters)

    def _tenants_and_registries(self) -> Iterator[Metric]:
        tenants = GaugeMetricFamily("harborconsole_tenants", "Tenants known to the console.")
        tenants.add_metric([], Tenant.objects.count())
        yield tenants
        registries = GaugeMetricFamily(
            "harborconsole_registries", "Registries by plan and phase.", labels=["plan", "phase"]
        )
        for row in Registry.objects.values("plan__name", "phase").annotate(n=Count("id")).order_by():
            registries.add_metric([row["plan__name"], row["phase"]], row["n"])
        yield registries

    def _limits(self, clusters: list[Cluster]) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "harborconsole_registry_info",
            "One per live registry: what the console knows of the tenant namespace.",
            labels=["namespace", "tenant", "registry", "plan", "cluster", "harbor_version", "phase"],
        )
        storage = GaugeMetricFamily(
            "harborconsole_registry_storage_limit_bytes",
            "Storage quota of the registry's plan (or its override), per namespace.",
            labels=["namespace"],
        )
        parallel = GaugeMetricFamily(
            "harborconsole_registry_parallel_request_limit",
            "Parallel-request limit of the registry's plan (or its override), per namespace.",
            labels=["namespace"],
        )
        registries = list(registry_rows())
        views = {c.pk: ClusterView(c.name, c.health()) for c in clusters}
        by_id = verdicts(registries, clusters=views)
        health = GaugeMetricFamily(
            "harborconsole_registry_health",
            "1 per live registry, labelled with its health verdict (the console's pages and API show the same).",
            labels=["namespace", "health"],
        )
        counts = dict.fromkeys(Health, 0)
        for registry in registries:
            effective = registry.effective()
            verdict = by_id[registry.pk]
            counts[verdict.health] += 1
            health.add_metric([registry.namespace, verdict.health.value], 1)
            ns = registry.namespace
            info.add_metric(
                [
                    ns,
                    getattr(registry, "tenant_slug", ""),
                    registry.name,
                    registry.plan.name,
                    getattr(registry, "cluster_name", ""),
                    registry.harbor_version,
                    registry.phase,
                ],
                1,
            )
            storage.add_metric([ns], effective.storage_quota_gib * GiB)
            parallel.add_metric([ns], effective.parallel_request_limit)
        yield info
        yield storage
        yield parallel
        yield health
        by_health = GaugeMetricFamily(
            "harborconsole_registries_by_health", "Live registries by health verdict.", labels=["health"]
        )
        for state, count in counts.items():
            by_health.add_metric([state.value], count)
        yield by_health

    def _runs(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "harborconsole_reconcile_runs_finished",
            "Reconcile runs finished, by status and error class: those recorded plus those pruned from the "
            "history (it never falls).",
            labels=["status", "error_class"],
        )
        totals: dict[tuple[str, str], int] = {}
        recorded = (
            ReconcileRun.objects.filter(status__in=FINISHED)
            .values("status", "error_class")
            .annotate(n=Count("id"))
            .order_by()
        )
        pruned = PrunedRuns.objects.values("status", "error_class", n=F("count"))
        quiet = (  # sweep runs that changed nothing are counted on their registry, not kept as rows
            Registry.objects.filter(quiet_runs__gt=0)
            .values(status=Value(RunStatus.SUCCEEDED), error_class=Value(""))
            .annotate(n=Sum("quiet_runs"))
            .order_by()
        )
        for row in [*recorded, *pruned.union(quiet, all=True)]:
            if not row["n"]:
                continue  # no quiet run yet (the sum over no registry)
            key = (row["status"], row["error_class"] or "")
            totals[key] = totals.get(key, 0) + row["n"]
        for (status, error_class), n in sorted(totals.items()):
            runs.add_metric([status, error_class], n)
        yield runs

    def _durations(self) -> Iterator[Metric]:
        histogram = HistogramMetricFamily(
            "harborconsole_reconcile_duration_seconds",
            "Duration of finished reconcile runs, by status.",
            labels=["status"],
        )
        aggregates: dict[str, Any] = {
            f"le_{i}": Count("id", filter=Q(duration_ms__lte=bound * 1000))
            for i, bound in enumerate(DURATION_BUCKETS)
        }
        rows = (
            ReconcileRun.objects.filter(
                duration_ms__isnull=False, status__in=[RunStatus.SUCCEEDED, RunStatus.FAILED]
            )
            .values("status")
            .annotate(total=Count("id"), seconds=Sum("duration_ms"), **aggregates)
            .order_by("status")
        )
        for row in rows:
            buckets = [(_le(bound), row[f"le_{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
            buckets.append(("+Inf", row["total"]))
            histogram.add_metric([row["status"]], buckets, (row["seconds"] or 0.0) / 1000)
        yield histogram

    def _queues(self, clusters: list[Cluster]) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "harborconsole_reconcile_queue_depth",
            "Reconcile runs queued or running, per cluster queue.",
            labels=["queue", "status"],
        )
        rows = (
            ReconcileRun.objects.open()
            .values("registry__cluster__queue", "status")
            .annotate(n=Count("id"))
            .order_by()
        )
        for row in rows:
            depth.add_metric([row["registry__cluster__queue"], row["status"]], row["n"])
        yield depth
        queues = sorted({c.queue for c in clusters} | {settings.CELERY_TASK_DEFAULT_QUEUE})
        lengths = broker_queue_lengths(queues)
        if lengths is not None:
            broker = GaugeMetricFamily(
                "harborconsole_broker_queue_length",
                "Messages waiting in the Celery broker, per queue (Redis broker only).",
                labels=["queue"],
            )
            for queue, length in lengths.items():
                broker.add_metric([queue], length)
            yield broker


def _le(bound: float) -> str:
    return repr(float(bound))


def broker_queue_lengths(queues: list[str]) -> dict[str, int] | None:
    """Length of each queue in a Redis broker, in one round trip; None for another broker or when unreachable."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(queue)
        return dict(zip(queues, (int(n) for n in pipe.execute()), strict=True))
    except redis.RedisError as exc:
        log.warning("broker queue lengths unavailable: %s", exc)
        return None


registry = CollectorRegistry(auto_describe=False)
registry.register(ConsoleCollector())
ProcessCollector(registry=registry)
PlatformCollector(registry=registry)
