"""Deterministic metric history of a fleet of Harbor tenants, as Prometheus would have scraped it.

For each tenant namespace it produces what kube-state-metrics, cAdvisor, the kubelet, the ingress controller and
the tenant's Harbor (exporter, core, registry, job service) expose, with the real metric names and labels listed
in METRICS.md. The same input (tenants, ``now``, seed) always gives the same samples, so tests can compute the
figures the console must show from :class:`History` itself, and the demo gets believable charts.

Samples sit on a shared time grid (:func:`timeline`): coarse far in the past, fine in the last hours and a
little beyond ``now`` so that instant queries keep finding fresh samples while a test session runs.
"""

from __future__ import annotations

import math
import random
import zlib
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

GiB = 1024**3
MINUTE = 60
HOUR = 3600
DAY = 86400

HEALTHY = "healthy"
ERRORS = "errors"  # many 5xx answers from core
SLOW = "slow"  # core answers five times slower for the last two hours
DOWN = "down"  # core crash-loops: Harbor is down
CRASHLOOP = "crashloop"  # the job service crash-loops
OOM = "oom"  # trivy (or, without trivy, the job service) was OOM-killed five hours ago
NEAR_QUOTA = "near_quota"  # storage at 85-95 % of the plan's quota
CONDITIONS = (HEALTHY, ERRORS, SLOW, DOWN, CRASHLOOP, OOM, NEAR_QUOTA)

DOWN_SINCE = 40 * MINUTE
CRASHLOOP_SINCE = 3 * HOUR
SLOW_SINCE = 2 * HOUR
REPOSITORIES_DELETED_AT = 10 * HOUR

HARBOR_COMPONENTS = ("core", "portal", "jobservice", "registry", "registryctl", "database", "redis", "trivy")
PROJECT_NAMES = ("library", "platform", "ml-models", "frontend", "ci-cache", "base-images", "mirror", "tools")
REPLICAS = {"s": 1, "m": 2, "l": 3}
REQUESTS_PER_SECOND = {"s": (0.3, 2.0), "m": (2.0, 8.0), "l": (8.0, 25.0)}

# (method, code, operation) → share of core's requests; the error shares are scaled by the tenant's error ratio.
CORE_TRAFFIC = (
    ("GET", "200", "v2_manifest", 0.30),
    ("HEAD", "200", "v2_manifest", 0.10),
    ("GET", "200", "v2_blob", 0.28),
    ("PUT", "201", "v2_manifest", 0.02),
    ("PATCH", "202", "v2_blob_upload", 0.04),
    ("GET", "200", "listProjects", 0.08),
    ("GET", "200", "getHealth", 0.08),
    ("GET", "401", "v2_others", 0.10),
)
CORE_ERRORS = (("GET", "500", "v2_manifest", 0.6), ("GET", "503", "v2_blob", 0.4))
MEAN_LATENCY = {
    ("GET", "v2_manifest"): 0.035,
    ("HEAD", "v2_manifest"): 0.02,
    ("GET", "v2_blob"): 0.4,
    ("PUT", "v2_manifest"): 0.15,
    ("PATCH", "v2_blob_upload"): 0.8,
    ("GET", "listProjects"): 0.06,
    ("GET", "getHealth"): 0.01,
    ("GET", "v2_others"): 0.005,
}
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STORAGE_BUCKETS = (0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.5)
BLOB_BYTES = 6 * 1024**2

Labels = tuple[tuple[str, str], ...]
SeriesKey = tuple[str, Labels]
ValueAt = Callable[[int], float | None]


@dataclass(frozen=True)
class TenantLoad:
    """What the generator needs to know of one tenant: its namespace, plan, limits and what ails it."""

    namespace: str
    plan: str = "m"
    quota_bytes: int = 600 * GiB
    parallel_limit: int = 45
    harbor_version: str = "2.14.4"
    trivy: bool = True
    managed_redis: bool = True
    condition: str = HEALTHY
    repositories_deleted: bool = False  # a project lost repositories (and their pull counts) 10 hours ago

    def __post_init__(self) -> None:
        if self.condition not in CONDITIONS:
            raise ValueError(f"unknown condition {self.condition!r}: use one of {', '.join(CONDITIONS)}")
        if self.plan not in REPLICAS:
            raise ValueError(f"unknown plan {self.plan!r}: use s, m or l")


@dataclass(frozen=True)
class Tier:
    """Samples every ``step`` seconds from ``now + start`` (inclusive) to ``now + end`` (exclusive), of every
    metric or only of ``metrics``."""

    start: int
    end: int
    step: int
    metrics: frozenset[str] | None = None

    def covers(self, name: str) -> bool:
        return self.metrics is None or name in self.metrics


BUSINESS_GAUGES = frozenset(
    {
        "harbor_project_total",
        "harbor_project_repo_total",
        "harbor_project_quota_usage_byte",
        "harbor_artifact_pulled",
        "harbor_project_artifact_total",
        "harbor_statistics_total_storage_consumption",
    }
)

DETAILED = (
    Tier(-8 * DAY, -25 * HOUR, HOUR),
    Tier(-8 * DAY, -25 * HOUR, 5 * MINUTE, BUSINESS_GAUGES),
    Tier(-25 * HOUR, -6 * HOUR, 5 * MINUTE),
    Tier(-6 * HOUR, 2 * HOUR, MINUTE),
)
"""Eight days of history: enough for the 7-day charts, growth and forecast, fine-grained in the last six hours.
The exporter's business gauges are dense throughout, so figures "a week ago" (``offset 7d``) find a sample
within Prometheus's five-minute lookback whenever they are asked."""

SHORT = (
    Tier(-DAY - 20 * MINUTE, -DAY + 20 * MINUTE, 5 * MINUTE),
    Tier(-20 * MINUTE, 40 * MINUTE, MINUTE),
)
"""Only what the fleet overview reads (now, and a day ago): for large fleets in the benchmark."""

FLEET_METRICS = frozenset(
    {
        "harbor_health",
        "harbor_up",
        "harbor_system_info",
        "harbor_core_http_request_total",
        "harbor_core_http_request_duration_seconds_sum",
        "harbor_core_http_request_duration_seconds_count",
        "harbor_artifact_pulled",
        "harbor_project_quota_usage_byte",
        "kube_pod_status_ready",
    }
)


def tier_times(now: int, tier: Tier) -> list[int]:
    first = -(-(now + tier.start) // tier.step) * tier.step
    return list(range(first, now + tier.end, tier.step))


def timeline(now: int, tiers: Iterable[Tier] = DETAILED) -> list[int]:
    """Every sample time of any tier, in seconds, ascending."""
    return sorted({t for tier in tiers for t in tier_times(now, tier)})


@dataclass
class History:
    """Generated samples: one array of values per series, all on :attr:`times` (NaN = no sample)."""

    now: int
    times: list[int]
    tenants: tuple[TenantLoad, ...]
    series: dict[SeriesKey, array] = field(default_factory=dict)

    def select(self, name: str, **match: str) -> Iterator[tuple[dict[str, str], array]]:
        """Series of metric ``name`` whose labels include ``match``."""
        for (metric, labels), values in self.series.items():
            if metric != name:
                continue
            as_dict = dict(labels)
            if all(as_dict.get(k) == v for k, v in match.items()):
                yield as_dict, values

    @property
    def sample_count(self) -> int:
        return sum(sum(1 for v in values if not math.isnan(v)) for values in self.series.values())

    def openmetrics_windows(self, window: int = 2 * HOUR) -> Iterator[tuple[int, str]]:
        """OpenMetrics text per ``window``-aligned slice of time (what promtool backfills as one block).

        promtool reads its whole input once per block it creates, so one file per block keeps backfilling linear.
        """
        by_window: dict[int, list[int]] = {}
        for index, t in enumerate(self.times):
            by_window.setdefault(t - t % window, []).append(index)
        prefixes = [
            (_exposition_prefix(name, labels), values) for (name, labels), values in self.series.items()
        ]
        for start, indexes in sorted(by_window.items()):
            lines: list[str] = []
            for prefix, values in prefixes:
                for i in indexes:
                    v = values[i]
                    if not math.isnan(v):
                        lines.append(f"{prefix} {_number(v)} {self.times[i]}\n")
            if lines:
                lines.append("# EOF\n")
                yield start, "".join(lines)


def generate(
    tenants: Iterable[TenantLoad],
    now: int,
    *,
    tiers: Iterable[Tier] = DETAILED,
    seed: str = "harbor-console",
    only: frozenset[str] | None = None,
) -> History:
    """Generate the history of ``tenants`` on the grid of ``tiers`` around ``now`` (seconds since the epoch).

    ``only`` restricts the output to the named metrics (e.g. :data:`FLEET_METRICS` for a large benchmark fleet).
    """
    tiers = tuple(tiers)
    history = History(now=now, times=timeline(now, tiers), tenants=tuple(tenants))
    sampled_by_tier = [set(tier_times(now, tier)) for tier in tiers]
    masks: dict[str, list[bool]] = {}

    def mask(name: str) -> list[bool]:
        if name not in masks:
            chosen = set().union(
                *(times for tier, times in zip(tiers, sampled_by_tier, strict=True) if tier.covers(name))
            )
            masks[name] = [t in chosen for t in history.times]
        return masks[name]

    for load in history.tenants:
        for name, labels, value_at in _TenantModel(load, now, seed).series():
            if only is not None and name not in only:
                continue
            key = (name, (("namespace", load.namespace), *labels))
            history.series[key] = array(
                "d",
                (
                    _nan_if_none(value_at(t)) if keep else math.nan
                    for t, keep in zip(history.times, mask(name), strict=True)
                ),
            )
    return history


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _exposition_prefix(name: str, labels: Labels) -> str:
    inner = ",".join(f'{key}="{_escape(value)}"' for key, value in labels)
    return f"{name}{{{inner}}}"


def _unit_noise(key: int, t: int) -> float:
    """A deterministic number in [0, 1) for a series key and a time (splitmix64)."""
    z = (key * 0x9E3779B97F4A7C15 + t) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return ((z ^ (z >> 31)) >> 11) / float(1 << 53)


def _const(value: float) -> ValueAt:
    return lambda t: value


def _share_of(total: Callable[[int], float], share: float) -> ValueAt:
    return lambda t: float(int(total(t) * share))


class _TenantModel:
    """The traffic, storage and health of one tenant over time, and the series they show up as."""

    def __init__(self, load: TenantLoad, now: int, seed: str) -> None:
        self.load = load
        self.now = now
        self.key = zlib.crc32(f"{seed}:{load.namespace}".encode())
        rng = random.Random(f"{seed}:{load.namespace}")
        self.replicas = REPLICAS[load.plan]
        low, high = REQUESTS_PER_SECOND[load.plan]
        self.rps = rng.uniform(low, high)
        self.phase = rng.uniform(0, 2 * math.pi)
        self.origin = now - 30 * DAY  # pods started long before the history begins
        self.error_ratio = rng.uniform(0.08, 0.15) if load.condition == ERRORS else rng.uniform(0.0005, 0.006)
        fill = rng.uniform(0.85, 0.95) if load.condition == NEAR_QUOTA else rng.uniform(0.05, 0.6)
        count = rng.randint(2, 5)
        self.projects = sorted(rng.sample(PROJECT_NAMES, count))
        weights = [rng.uniform(0.2, 1.0) for _ in self.projects]
        total = sum(weights)
        self.project_share = {p: w / total for p, w in zip(self.projects, weights, strict=True)}
        self.storage_now = {p: fill * load.quota_bytes * s for p, s in self.project_share.items()}
        growth_days = rng.uniform(25.0, 200.0)  # days to double at today's pace
        self.storage_growth = {p: b / (growth_days * DAY) for p, b in self.storage_now.items()}
        self.public = {p: rng.random() < 0.3 for p in self.projects}
        self.repos = {p: rng.randint(1, 40) for p in self.projects}
        self.artifacts_per_repo = rng.uniform(3.0, 30.0)
        self.pulled_base = {p: rng.randint(1_000, 500_000) for p in self.projects}
        self.build = f"{zlib.crc32(load.harbor_version.encode()):08x}"
        self.burst = rng.uniform(0.3, 1.1)  # how close the busiest moments come to the parallel-request limit
        self.pods = self._pods(rng)
        self.oom_workload = ("trivy" if load.trivy else "jobservice") if load.condition == OOM else ""

    # --- time profile --------------------------------------------------------------------------------------------

    def _cumulative(self, t: int) -> float:
        """Integral of the daily traffic curve (mean 1) from the pods' start to ``t``, in seconds."""
        amplitude = 0.4

        def primitive(u: float) -> float:
            return u - amplitude * DAY / (2 * math.pi) * math.cos(2 * math.pi * u / DAY + self.phase)

        return primitive(t) - primitive(self.origin)

    def _core_down(self, t: int) -> bool:
        return self.load.condition == DOWN and t >= self.now - DOWN_SINCE

    def _served(self, t: int) -> float:
        """Requests core has served per unit of rate up to ``t`` (frozen while core is down)."""
        if self.load.condition == DOWN:
            t = min(t, self.now - DOWN_SINCE)
        return self._cumulative(t)

    # --- pods ------------------------------------------------------------------------------------------------------

    def _pods(self, rng: random.Random) -> list[tuple[str, str, tuple[str, ...]]]:
        """(workload, pod, containers) of the tenant's stack."""
        pods = []
        deployments = [
            ("core", ("core",)),
            ("portal", ("portal",)),
            ("registry", ("registry", "registryctl")),
            ("jobservice", ("jobservice",)),
            ("exporter", ("exporter",)),
        ]
        for workload, containers in deployments:
            replicas = 1 if workload == "exporter" else self.replicas
            template = f"{rng.getrandbits(40):010x}"[:10]
            for _ in range(replicas):
                pods.append((workload, f"harbor-{workload}-{template}-{rng.getrandbits(25):05x}", containers))
        if self.load.trivy:
            pods.append(("trivy", "harbor-trivy-0", ("trivy",)))
        if self.load.managed_redis:
            pods.append(("redis", "harbor-redis-0", ("redis",)))
        return pods

    def _pod_broken(self, workload: str, t: int) -> bool:
        if workload == "core":
            return self._core_down(t)
        if workload == "jobservice":
            return self.load.condition == CRASHLOOP and t >= self.now - CRASHLOOP_SINCE
        return False

    # --- series ----------------------------------------------------------------------------------------------------

    def series(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        yield from self._platform()
        yield from self._exporter()
        yield from self._core()
        yield from self._registry()
        yield from self._jobservice()
        yield from self._ingress()

    def _platform(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        for workload, pod, containers in self.pods:
            for condition in ("true", "false"):

                def ready(t: int, workload: str = workload, condition: str = condition) -> float:
                    broken = self._pod_broken(workload, t)
                    return float(broken) if condition == "false" else float(not broken)

                yield "kube_pod_status_ready", (("pod", pod), ("condition", condition)), ready
            for container in containers:
                labels = (("pod", pod), ("container", container))
                yield "kube_pod_container_status_restarts_total", labels, self._restarts(workload, pod)
                yield "container_cpu_usage_seconds_total", labels, self._cpu(pod, container)
                yield "container_memory_working_set_bytes", labels, self._memory(pod, container)
            if workload in ("core", "jobservice") and self._broken_ever(workload):
                waiting: Labels = (("pod", pod), ("container", containers[0]), ("reason", "CrashLoopBackOff"))
                yield "kube_pod_container_status_waiting_reason", waiting, self._waiting(workload)
            if workload == self.oom_workload and pod == self._first_pod(workload):
                terminated: Labels = (("pod", pod), ("container", containers[0]), ("reason", "OOMKilled"))
                yield (
                    "kube_pod_container_status_last_terminated_reason",
                    terminated,
                    lambda t: 1.0 if t >= self.now - 5 * HOUR else None,
                )
        deployments: dict[str, int] = {}
        for workload, _pod, _containers in self.pods:
            if workload not in ("trivy", "redis"):
                deployments[workload] = deployments.get(workload, 0) + 1
        for workload, replicas in deployments.items():
            deployment: Labels = (("deployment", f"harbor-{workload}"),)
            yield "kube_deployment_spec_replicas", deployment, _const(float(replicas))
            yield "kube_deployment_status_replicas_available", deployment, self._available(workload, replicas)
        for workload in ("trivy", "redis"):
            if any(w == workload for w, _p, _c in self.pods):
                yield from self._statefulset(workload)

    def _first_pod(self, workload: str) -> str:
        return next(pod for w, pod, _c in self.pods if w == workload)

    def _waiting(self, workload: str) -> ValueAt:
        return lambda t: 1.0 if self._pod_broken(workload, t) else None

    def _available(self, workload: str, replicas: int) -> ValueAt:
        return lambda t: float(0 if self._pod_broken(workload, t) else replicas)

    def _served_counter(self, rate: float) -> ValueAt:
        return lambda t: float(int(rate * self._served(t)))

    def _broken_ever(self, workload: str) -> bool:
        return self._pod_broken(workload, self.now + DAY)

    def _restarts(self, workload: str, pod: str) -> ValueAt:
        oom_killed = workload == self.oom_workload and pod == self._first_pod(workload)

        def restarts(t: int) -> float:
            count = 0.0
            if oom_killed and t >= self.now - 5 * HOUR:
                count += 1
            since = self.now - (DOWN_SINCE if workload == "core" else CRASHLOOP_SINCE)
            if self._pod_broken(workload, t):
                count += 1 + (t - since) // (5 * MINUTE)
            return count

        return restarts

    def _cpu(self, pod: str, container: str) -> ValueAt:
        base = 0.004 + 0.02 * self.rps / self.replicas if container in ("core", "registry") else 0.003

        def cpu_seconds(t: int) -> float:
            return round(base * self._cumulative(t), 3)

        return cpu_seconds

    def _memory(self, pod: str, container: str) -> ValueAt:
        base = {"core": 180, "registry": 120, "jobservice": 90, "trivy": 400, "redis": 60}.get(container, 40)
        key = zlib.crc32(f"{self.key}:{pod}:{container}:mem".encode())

        def working_set(t: int) -> float:
            return float(int((base + 30 * _unit_noise(key, t // 300)) * 1024**2))

        return working_set

    def _statefulset(self, workload: str) -> Iterator[tuple[str, Labels, ValueAt]]:
        labels = (("statefulset", f"harbor-{workload}"),)
        yield "kube_statefulset_replicas", labels, lambda t: 1.0
        yield "kube_statefulset_status_replicas_ready", labels, lambda t: 1.0
        capacity = (5 if workload == "trivy" else self.load.quota_bytes // GiB // 200 + 1) * GiB
        start_fill = 0.35 if workload == "trivy" else 0.2
        per_day = 0.01 if workload == "trivy" else 0.004

        def used(t: int) -> float:
            return float(int(capacity * min(0.99, start_fill + per_day * (t - self.origin) / DAY)))

        pvc = (("persistentvolumeclaim", f"data-harbor-{workload}-0"),)
        yield "kubelet_volume_stats_capacity_bytes", pvc, lambda t: float(capacity)
        yield "kubelet_volume_stats_used_bytes", pvc, used
        yield "kubelet_volume_stats_available_bytes", pvc, lambda t: float(capacity) - used(t)

    def _exporter(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        load = self.load
        yield "harbor_health", (), self._health
        for component in HARBOR_COMPONENTS:
            if component == "trivy" and not load.trivy:
                continue

            def up(t: int, component: str = component) -> float:
                if component == "core":
                    return 0.0 if self._core_down(t) else 1.0
                if component == "jobservice":
                    return 0.0 if self._pod_broken("jobservice", t) else 1.0
                return 1.0

            yield "harbor_up", (("component", component),), up
        info = (
            ("auth_mode", "db_auth"),
            ("harbor_version", f"v{load.harbor_version}-{self.build}"),
            ("self_registration", "false"),
        )
        yield "harbor_system_info", info, lambda t: 1.0
        for public in ("true", "false"):
            count = float(sum(1 for p in self.projects if self.public[p] == (public == "true")))
            yield "harbor_project_total", (("public", public),), _const(count)
        for project in self.projects:
            public = "true" if self.public[project] else "false"
            yield (
                "harbor_project_repo_total",
                (("project_name", project), ("public", public)),
                _const(float(self.repos[project])),
            )
            yield "harbor_project_quota_usage_byte", (("project_name", project),), self._storage(project)
            yield "harbor_project_quota_byte", (("project_name", project),), lambda t: -1.0
            yield "harbor_artifact_pulled", (("project_name", project),), self._pulled(project)
            yield (
                "harbor_project_artifact_total",
                (("project_name", project), ("public", public), ("artifact_type", "image")),
                _const(float(int(self.repos[project] * self.artifacts_per_repo))),
            )
        yield "harbor_statistics_total_storage_consumption", (), self._deduplicated_storage
        for job_type in ("GARBAGE_COLLECTION", "REPLICATION", "IMAGE_SCAN"):
            key = zlib.crc32(f"{self.key}:{job_type}:queue".encode())

            def queue(t: int, key: int = key, job_type: str = job_type) -> float:
                if job_type == "IMAGE_SCAN" and self._pod_broken("jobservice", t):
                    return float(20 + (t - (self.now - CRASHLOOP_SINCE)) // 120)
                return float(int(4 * _unit_noise(key, t // 300)))

            yield "harbor_task_queue_size", (("type", job_type),), queue

    def _health(self, t: int) -> float:
        """Harbor's /health is unhealthy as soon as one component is."""
        return 0.0 if self._core_down(t) or self._pod_broken("jobservice", t) else 1.0

    def _storage(self, project: str) -> ValueAt:
        now_bytes = self.storage_now[project]
        growth = self.storage_growth[project]

        def usage(t: int) -> float:
            return float(int(max(now_bytes * 0.05, now_bytes + growth * (t - self.now))))

        return usage

    def _deduplicated_storage(self, t: int) -> float:
        return float(int(0.9 * sum(self._storage(p)(t) or 0.0 for p in self.projects)))

    def _pulled(self, project: str) -> ValueAt:
        rate = self.rps * 0.30 * (1 - self.error_ratio) * self.project_share[project]
        base = self.pulled_base[project]
        drops = self.load.repositories_deleted and project == self.projects[0]

        def pulled(t: int) -> float:
            total = base + rate * self._served(t)
            if drops and t >= self.now - REPOSITORIES_DELETED_AT:
                total *= 0.4
            return float(int(total))

        return pulled

    def _core(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        core_pods = [pod for workload, pod, _c in self.pods if workload == "core"]
        ok = 1 - self.error_ratio
        traffic = [(m, c, o, share * ok) for m, c, o, share in CORE_TRAFFIC]
        traffic += [(m, c, o, share * self.error_ratio) for m, c, o, share in CORE_ERRORS]
        per_pod = self.rps / len(core_pods)
        for pod in core_pods:
            counts: dict[tuple[str, str], list[float]] = {}
            for method, code, operation, share in traffic:
                rate = per_pod * share
                counts.setdefault((method, operation), []).append(rate)
                labels = (("pod", pod), ("method", method), ("code", code), ("operation", operation))
                yield "harbor_core_http_request_total", labels, self._counter(rate)
            for (method, operation), rates in counts.items():
                by_operation: Labels = (("pod", pod), ("method", method), ("operation", operation))
                count = self._counter(sum(rates))
                yield "harbor_core_http_request_duration_seconds_count", by_operation, count
                yield (
                    "harbor_core_http_request_duration_seconds_sum",
                    by_operation,
                    self._latency_sum(sum(rates), MEAN_LATENCY[(method, operation)]),
                )
            key = zlib.crc32(f"{self.key}:{pod}:inflight".encode())
            yield "harbor_core_http_inflight_requests", (("pod", pod),), self._inflight(key, per_pod)

    def _counter(self, rate: float) -> ValueAt:
        def value(t: int) -> float | None:
            if self._core_down(t):
                return None  # core's metrics endpoint is gone while it crash-loops
            return float(int(rate * self._served(t)))

        return value

    def _latency_sum(self, rate: float, mean: float) -> ValueAt:
        slow = self.load.condition == SLOW
        slow_from = self.now - SLOW_SINCE

        def value(t: int) -> float | None:
            if self._core_down(t):
                return None
            served = rate * self._served(t)
            if slow and t > slow_from:
                before = rate * self._served(slow_from)
                return round(before * mean + (served - before) * mean * 5, 6)
            return round(served * mean, 6)

        return value

    def _inflight(self, key: int, per_pod_rps: float) -> ValueAt:
        typical = per_pod_rps * 0.25
        limit = self.load.parallel_limit / self.replicas

        def value(t: int) -> float | None:
            if self._core_down(t):
                return None
            burst = _unit_noise(key, t) ** 6  # rare bursts toward the plan's parallel-request limit
            return float(int(typical * (0.5 + _unit_noise(key + 1, t)) + burst * limit * self.burst))

        return value

    def _registry(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        registry_pods = [pod for workload, pod, _c in self.pods if workload == "registry"]
        per_pod = self.rps / len(registry_pods)
        handlers = (("blob", 0.28, 0.12), ("manifest", 0.40, 0.02))
        for pod in registry_pods:
            for handler, share, median in handlers:
                rate = per_pod * share
                labels = (("pod", pod), ("handler", handler), ("method", "GET"))
                yield from self._histogram("registry_http_request_duration_seconds", labels, rate, median)
                yield (
                    "registry_http_requests_total",
                    (("pod", pod), ("handler", handler), ("code", "200"), ("method", "GET")),
                    self._counter(rate),
                )
            blob_rate = per_pod * 0.28
            yield (
                "registry_http_response_size_bytes_sum",
                (("pod", pod), ("handler", "blob")),
                self._scaled_counter(blob_rate, BLOB_BYTES),
            )
            yield (
                "registry_http_response_size_bytes_count",
                (("pod", pod), ("handler", "blob")),
                self._counter(blob_rate),
            )
            for action, median in (("GetContent", 0.03), ("PutContent", 0.09)):
                labels = (("pod", pod), ("driver", "s3aws"), ("action", action))
                yield from self._histogram(
                    "registry_storage_action_seconds", labels, per_pod * 0.1, median, STORAGE_BUCKETS
                )

    def _scaled_counter(self, rate: float, factor: float) -> ValueAt:
        def value(t: int) -> float | None:
            if self._core_down(t):
                return None
            return float(int(rate * self._served(t)) * factor)

        return value

    def _histogram(
        self,
        name: str,
        labels: Labels,
        rate: float,
        median: float,
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> Iterator[tuple[str, Labels, ValueAt]]:
        """Cumulative buckets of a log-normal latency around ``median``."""

        def fraction_below(le: float) -> float:
            return 0.5 * (1 + math.erf(math.log(le / median) / (0.9 * math.sqrt(2))))

        counter = self._counter(rate)
        for le in buckets:
            share = fraction_below(le)

            def bucket(t: int, share: float = share) -> float | None:
                total = counter(t)
                return None if total is None else float(int(total * share))

            yield f"{name}_bucket", (*labels, ("le", _number(float(le)))), bucket
        yield f"{name}_bucket", (*labels, ("le", "+Inf")), counter
        yield f"{name}_count", labels, counter
        mean = median * math.exp(0.9**2 / 2)

        def total_seconds(t: int) -> float | None:
            total = counter(t)
            return None if total is None else round(total * mean, 6)

        yield f"{name}_sum", labels, total_seconds

    def _jobservice(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        for job_type, per_hour in (("GARBAGE_COLLECTION", 0.05), ("REPLICATION", 2.0), ("IMAGE_SCAN", 6.0)):
            for status, share in (("success", 0.97), ("fail", 0.03)):
                rate = per_hour * share / HOUR

                def done(t: int, rate: float = rate) -> float | None:
                    if self._pod_broken("jobservice", t):
                        return None
                    return float(int(rate * self._cumulative(t)))

                yield "harbor_jobservice_task_total", (("type", job_type), ("status", status)), done

    def _ingress(self) -> Iterator[tuple[str, Labels, ValueAt]]:
        ingress = (("ingress", "harbor"), ("service", "harbor-core"))
        ok_rate = self.rps * (1 - self.error_ratio)
        statuses = (("200", 0.9), ("201", 0.02), ("401", 0.08))
        for status, share in statuses:
            yield (
                "nginx_ingress_controller_requests",
                (*ingress, ("status", status)),
                self._served_counter(ok_rate * share),
            )

        def failures(t: int) -> float:
            served = self.rps * self.error_ratio * self._served(t)
            if self._core_down(t):
                served += self.rps * (t - (self.now - DOWN_SINCE))  # the ingress answers 503 for core
            return float(int(served))

        yield "nginx_ingress_controller_requests", (*ingress, ("status", "503")), failures

        def self_total(t: int) -> float:
            return float(int(self.rps * self._cumulative(t)))

        for le in DEFAULT_BUCKETS:
            share = 0.5 * (1 + math.erf(math.log(le / 0.05) / (1.1 * math.sqrt(2))))
            yield (
                "nginx_ingress_controller_request_duration_seconds_bucket",
                (*ingress, ("le", _number(float(le)))),
                _share_of(self_total, share),
            )
        yield (
            "nginx_ingress_controller_request_duration_seconds_bucket",
            (*ingress, ("le", "+Inf")),
            self_total,
        )
        yield "nginx_ingress_controller_request_duration_seconds_count", ingress, self_total
        yield (
            "nginx_ingress_controller_request_duration_seconds_sum",
            ingress,
            lambda t: round(self_total(t) * 0.05 * math.exp(1.1**2 / 2), 6),
        )
