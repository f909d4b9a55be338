"""The catalogue of named queries: platform, application and business figures, each with its unit and meaning.

Each query is PromQL aggregated ``by (namespace, …)`` with three placeholders filled in by :meth:`Query.promql`:
``$sel`` (label matchers choosing the tenants: the whole fleet, or one namespace), ``$window`` (the rate window:
5 minutes for a current figure, the chart step for a chart) and ``$range`` (the period of "over the last …"
figures). The tenant key is the ``namespace`` label: one namespace per registry.

Ingress figures read ingress-nginx's metric names; :data:`INGRESS_METRICS` names them in one place so another
controller's metrics can be swapped in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from string import Template

from monitoring.units import Unit


class Group(StrEnum):
    PLATFORM = "platform"
    APPLICATION = "application"
    BUSINESS = "business"

    @property
    def label(self) -> str:
        return {"platform": "Platform", "application": "Application", "business": "Business"}[self.value]


INGRESS_METRICS = {
    "requests": "nginx_ingress_controller_requests",
    "duration_bucket": "nginx_ingress_controller_request_duration_seconds_bucket",
}

FLEET_SELECTOR = 'namespace!=""'
DEFAULT_WINDOW = "5m"


def namespace_selector(namespace: str) -> str:
    escaped = namespace.replace("\\", "\\\\").replace('"', '\\"')
    return f'namespace="{escaped}"'


@dataclass(frozen=True)
class Query:
    key: str
    group: Group
    title: str
    unit: Unit
    description: str
    expr: str
    by: tuple[str, ...] = ()  # labels beyond namespace that tell the result's series apart
    default_range: str = "1d"
    recorded: str = (
        ""  # the same figure from the recording rules (current values, 5-minute rates), RECORDING_RULES
    )

    def promql(
        self,
        sel: str = FLEET_SELECTOR,
        window: str = DEFAULT_WINDOW,
        period: str | None = None,
        recorded: bool = False,
    ) -> str:
        """The PromQL for the tenants ``sel`` chooses, rates over ``window``, totals over ``period``; from the
        recording rules' series when ``recorded`` and the query has a recorded form for that window."""
        expr = self.recorded if recorded and self.recorded and window == DEFAULT_WINDOW else self.expr
        return Template(expr).substitute(sel=sel, window=window, range=period or self.default_range)

    def for_namespace(self, namespace: str, window: str = DEFAULT_WINDOW, period: str | None = None) -> str:
        return self.promql(namespace_selector(namespace), window, period)


def _ratio(numerator: str, denominator: str) -> str:
    return f"sum by (namespace) ({numerator}) / sum by (namespace) ({denominator})"


def _share(part: str, whole: str, series: str) -> str:
    """Share of ``part`` in ``whole`` per namespace, and 0 (not "no data") where ``part`` has no series yet.

    The fallback reads only the latest sample of ``series`` (``group``), not a second rate over the whole window:
    on a large fleet the rate over every request counter is what costs.
    """
    return (
        f"sum by (namespace) ({part}) / sum by (namespace) ({whole})"
        f" or on (namespace) (0 * group by (namespace) ({series}))"
    )


_CORE = "harbor_core_http_request_total"
_DURATION = "harbor_core_http_request_duration_seconds"

# Recording rules for large fleets: per-namespace 5-minute rates of Harbor core's counters, and each namespace's
# pods not ready. Reading a few thousand recorded series costs Prometheus far less than rating every pod's counters
# (or reading every pod's readiness: ten thousand series at 1,000 tenants) on each fleet view.
REQUESTS_RATE = "namespace:harbor_core_http_requests:rate5m"
ERRORS_RATE = "namespace:harbor_core_http_requests_5xx:rate5m"
DURATION_SUM_RATE = "namespace:harbor_core_http_request_duration_seconds_sum:rate5m"
DURATION_COUNT_RATE = "namespace:harbor_core_http_request_duration_seconds_count:rate5m"
PODS_NOT_READY = "namespace:kube_pod_status_ready_false:sum"
RECORDING_RULES: dict[str, str] = {
    REQUESTS_RATE: f'sum by (namespace) (rate({_CORE}{{namespace!=""}}[5m]))',
    ERRORS_RATE: f'sum by (namespace) (rate({_CORE}{{code=~"5..",namespace!=""}}[5m]))',
    DURATION_SUM_RATE: f'sum by (namespace) (rate({_DURATION}_sum{{namespace!=""}}[5m]))',
    DURATION_COUNT_RATE: f'sum by (namespace) (rate({_DURATION}_count{{namespace!=""}}[5m]))',
    PODS_NOT_READY: 'sum by (namespace) (kube_pod_status_ready{condition="false",namespace!=""})',
}
_PULL = 'operation="v2_manifest",method="GET",code="200"'
_PUSH = 'operation="v2_manifest",method="PUT",code="201"'
_USAGE = "harbor_project_quota_usage_byte"

CATALOGUE: tuple[Query, ...] = (
    # --- platform: what Kubernetes says of the tenant's pods, volumes and ingress
    Query(
        "pods_not_ready",
        Group.PLATFORM,
        "Pods not ready",
        Unit.COUNT,
        "Pods of the tenant's stack whose Ready condition is false (kube-state-metrics).",
        'sum by (namespace) (kube_pod_status_ready{condition="false",$sel})',
        recorded=f"sum by (namespace) ({PODS_NOT_READY}{{$sel}})",
    ),
    Query(
        "restarts",
        Group.PLATFORM,
        "Container restarts",
        Unit.COUNT,
        "Container restarts over the period.",
        "sum by (namespace) (increase(kube_pod_container_status_restarts_total{$sel}[$range]))",
        default_range="1h",
    ),
    Query(
        "crash_loops",
        Group.PLATFORM,
        "Containers crash-looping",
        Unit.COUNT,
        "Containers waiting in CrashLoopBackOff, ImagePullBackOff or ErrImagePull.",
        "count by (namespace) (kube_pod_container_status_waiting_reason"
        '{reason=~"CrashLoopBackOff|ImagePullBackOff|ErrImagePull",$sel} == 1)',
    ),
    Query(
        "oom_kills",
        Group.PLATFORM,
        "Containers OOM-killed",
        Unit.COUNT,
        "Containers whose last termination was an out-of-memory kill.",
        'count by (namespace) (kube_pod_container_status_last_terminated_reason{reason="OOMKilled",$sel} == 1)',
    ),
    Query(
        "cpu",
        Group.PLATFORM,
        "CPU",
        Unit.CORES,
        "CPU used by the tenant's containers (cAdvisor).",
        'sum by (namespace) (rate(container_cpu_usage_seconds_total{container!="",$sel}[$window]))',
    ),
    Query(
        "memory",
        Group.PLATFORM,
        "Memory",
        Unit.BYTES,
        "Working-set memory of the tenant's containers (cAdvisor).",
        'sum by (namespace) (container_memory_working_set_bytes{container!="",$sel})',
    ),
    Query(
        "volume_fill",
        Group.PLATFORM,
        "Fullest volume",
        Unit.RATIO,
        "Fill of the tenant's fullest persistent volume (kubelet).",
        "max by (namespace) (kubelet_volume_stats_used_bytes{$sel} / kubelet_volume_stats_capacity_bytes{$sel})",
    ),
    Query(
        "volume_days_left",
        Group.PLATFORM,
        "Days until a volume is full",
        Unit.DAYS,
        "At the pace of the last 6 hours, days until the first of the tenant's volumes fills up.",
        "min by (namespace) (kubelet_volume_stats_available_bytes{$sel}"
        " / (-deriv(kubelet_volume_stats_available_bytes{$sel}[6h]) > 0)) / 86400",
    ),
    Query(
        "ingress_error_ratio",
        Group.PLATFORM,
        "Ingress 5xx ratio",
        Unit.RATIO,
        "Share of requests the ingress controller answered with a 5xx status.",
        _share(
            f'rate({INGRESS_METRICS["requests"]}{{status=~"5..",$sel}}[$window])',
            f"rate({INGRESS_METRICS['requests']}{{$sel}}[$window])",
            f"{INGRESS_METRICS['requests']}{{$sel}}",
        ),
    ),
    Query(
        "ingress_p95",
        Group.PLATFORM,
        "Ingress p95 latency",
        Unit.SECONDS,
        "95th percentile of request duration at the ingress controller.",
        "histogram_quantile(0.95, sum by (le, namespace) "
        f"(rate({INGRESS_METRICS['duration_bucket']}{{$sel}}[$window])))",
    ),
    # --- application: what each Harbor says of itself
    Query(
        "health",
        Group.APPLICATION,
        "Harbor health",
        Unit.STATE,
        "1 when Harbor core reports itself healthy (exporter).",
        "min by (namespace) (harbor_health{$sel})",
    ),
    Query(
        "components",
        Group.APPLICATION,
        "Components up",
        Unit.STATE,
        "Each Harbor component's state as the exporter sees it.",
        "min by (namespace, component) (harbor_up{$sel})",
        by=("component",),
    ),
    Query(
        "components_down",
        Group.APPLICATION,
        "Components down",
        Unit.STATE,
        "Harbor components the exporter reports down (only those).",
        "min by (namespace, component) (harbor_up{$sel} == 0)",  # filtered first: the fleet's few, not all
        by=("component",),
    ),
    Query(
        "request_rate",
        Group.APPLICATION,
        "Requests",
        Unit.PER_SECOND,
        "Requests answered by Harbor core.",
        f"sum by (namespace) (rate({_CORE}{{$sel}}[$window]))",
        recorded=f"sum by (namespace) ({REQUESTS_RATE}{{$sel}})",
    ),
    Query(
        "error_ratio",
        Group.APPLICATION,
        "5xx ratio",
        Unit.RATIO,
        "Share of Harbor core's answers with a 5xx status.",
        _share(
            f'rate({_CORE}{{code=~"5..",$sel}}[$window])',
            f"rate({_CORE}{{$sel}}[$window])",
            f"{_CORE}{{$sel}}",
        ),
        recorded=_share(f"{ERRORS_RATE}{{$sel}}", f"{REQUESTS_RATE}{{$sel}}", f"{REQUESTS_RATE}{{$sel}}"),
    ),
    Query(
        "mean_latency",
        Group.APPLICATION,
        "Mean latency",
        Unit.SECONDS,
        "Mean duration of Harbor core's requests (sum over count: summaries' quantiles cannot be added up).",
        _ratio(
            "rate(harbor_core_http_request_duration_seconds_sum{$sel}[$window])",
            "rate(harbor_core_http_request_duration_seconds_count{$sel}[$window])",
        ),
        recorded=_ratio(f"{DURATION_SUM_RATE}{{$sel}}", f"{DURATION_COUNT_RATE}{{$sel}}"),
    ),
    Query(
        "latency_by_operation",
        Group.APPLICATION,
        "Mean latency per operation",
        Unit.SECONDS,
        "Mean duration of Harbor core's requests, per API operation.",
        "sum by (namespace, operation) (rate(harbor_core_http_request_duration_seconds_sum{$sel}[$window]))"
        " / sum by (namespace, operation) "
        "(rate(harbor_core_http_request_duration_seconds_count{$sel}[$window]))",
        by=("operation",),
    ),
    Query(
        "inflight",
        Group.APPLICATION,
        "Requests in flight",
        Unit.COUNT,
        "Requests Harbor core is serving right now.",
        "sum by (namespace) (harbor_core_http_inflight_requests{$sel})",
    ),
    Query(
        "registry_p95",
        Group.APPLICATION,
        "Registry p95 latency",
        Unit.SECONDS,
        "95th percentile of the registry's request duration, per handler.",
        "histogram_quantile(0.95, sum by (le, namespace, handler) "
        "(rate(registry_http_request_duration_seconds_bucket{$sel}[$window])))",
        by=("handler",),
    ),
    Query(
        "storage_latency_p99",
        Group.APPLICATION,
        "Storage driver p99 latency",
        Unit.SECONDS,
        "99th percentile of the registry's object-storage calls, per action.",
        "histogram_quantile(0.99, sum by (le, namespace, action) "
        "(rate(registry_storage_action_seconds_bucket{$sel}[$window])))",
        by=("action",),
    ),
    Query(
        "job_queue",
        Group.APPLICATION,
        "Job queue",
        Unit.COUNT,
        "Jobs waiting in the job service's queues, per job type.",
        "sum by (namespace, type) (harbor_task_queue_size{$sel})",
        by=("type",),
    ),
    Query(
        "job_failures",
        Group.APPLICATION,
        "Failed jobs",
        Unit.COUNT,
        "Jobs that failed over the period, per job type.",
        'sum by (namespace, type) (increase(harbor_jobservice_task_total{status="fail",$sel}[$range]))',
        by=("type",),
        default_range="1h",
    ),
    Query(
        "pull_rate",
        Group.APPLICATION,
        "Pulls",
        Unit.PER_SECOND,
        "Manifest pulls (GET of a manifest answered 200).",
        f"sum by (namespace) (rate({_CORE}{{{_PULL},$sel}}[$window]))",
    ),
    Query(
        "push_rate",
        Group.APPLICATION,
        "Pushes",
        Unit.PER_SECOND,
        "Manifest pushes (PUT of a manifest answered 201).",
        f"sum by (namespace) (rate({_CORE}{{{_PUSH},$sel}}[$window]))",
    ),
    Query(
        "egress_rate",
        Group.APPLICATION,
        "Blob egress",
        Unit.BYTES_PER_SECOND,
        "Bytes of blobs the registry sent.",
        'sum by (namespace) (rate(registry_http_response_size_bytes_sum{handler="blob",$sel}[$window]))',
    ),
    Query(
        "version",
        Group.APPLICATION,
        "Running version",
        Unit.LABEL,
        "The Harbor version the running core reports.",
        "max by (namespace, harbor_version) (harbor_system_info{$sel})",
        by=("harbor_version",),
    ),
    # --- business: what the tenant stores and uses
    Query(
        "storage_used",
        Group.BUSINESS,
        "Storage used",
        Unit.BYTES,
        "Storage counted against the tenant's project quotas.",
        f"sum by (namespace) ({_USAGE}{{$sel}})",
    ),
    Query(
        "storage_deduplicated",
        Group.BUSINESS,
        "Storage (deduplicated)",
        Unit.BYTES,
        "Storage Harbor reports after deduplicating shared layers (Harbor 2.12 and later).",
        "max by (namespace) (harbor_statistics_total_storage_consumption{$sel})",
    ),
    Query(
        "projects",
        Group.BUSINESS,
        "Projects",
        Unit.COUNT,
        "Harbor projects.",
        "sum by (namespace) (harbor_project_total{$sel})",
    ),
    Query(
        "repositories",
        Group.BUSINESS,
        "Repositories",
        Unit.COUNT,
        "Repositories over all projects.",
        "sum by (namespace) (harbor_project_repo_total{$sel})",
    ),
    Query(
        "artifacts",
        Group.BUSINESS,
        "Artifacts",
        Unit.COUNT,
        "Artifacts over all projects.",
        "sum by (namespace) (harbor_project_artifact_total{$sel})",
    ),
    Query(
        "pulls",
        Group.BUSINESS,
        "Pulls",
        Unit.COUNT,
        "Artifact pulls over the period, per project from the exporter's running totals (a project whose "
        "count dropped because repositories were deleted counts zero).",
        "sum by (namespace) (clamp_min(harbor_artifact_pulled{$sel} - harbor_artifact_pulled{$sel} offset $range, 0))",
    ),
    Query(
        "pushes",
        Group.BUSINESS,
        "Pushes",
        Unit.COUNT,
        "Manifest pushes over the period.",
        f"sum by (namespace) (increase({_CORE}{{{_PUSH},$sel}}[$range]))",
    ),
    Query(
        "egress",
        Group.BUSINESS,
        "Egress",
        Unit.BYTES,
        "Bytes of blobs served over the period.",
        'sum by (namespace) (increase(registry_http_response_size_bytes_sum{handler="blob",$sel}[$range]))',
    ),
    Query(
        "storage_growth",
        Group.BUSINESS,
        "Storage growth",
        Unit.BYTES,
        "Change of storage used over the period.",
        f"sum by (namespace) ({_USAGE}{{$sel}}) - sum by (namespace) ({_USAGE}{{$sel}} offset $range)",
        default_range="7d",
    ),
    Query(
        "storage_forecast",
        Group.BUSINESS,
        "Storage in 30 days",
        Unit.BYTES,
        "Storage used 30 days from now, at the pace of the last 7 days (linear fit on hourly points).",
        f"predict_linear(sum by (namespace) ({_USAGE}{{$sel}})[7d:1h], 30 * 86400)",
    ),
    Query(
        "peak_inflight",
        Group.BUSINESS,
        "Peak parallel requests",
        Unit.COUNT,
        "Most requests core served at once over the period (5-minute resolution), to compare with the plan's "
        "parallel-request limit.",
        "max_over_time(sum by (namespace) (harbor_core_http_inflight_requests{$sel})[$range:5m])",
    ),
)

BY_KEY: dict[str, Query] = {q.key: q for q in CATALOGUE}

RANGE_PATTERN = re.compile(r"^\d+[smhdw]$")


def get(key: str) -> Query:
    return BY_KEY[key]


def by_group(group: Group) -> list[Query]:
    return [q for q in CATALOGUE if q.group == group]
