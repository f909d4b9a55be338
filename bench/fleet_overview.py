"""Fleet overview at 1,000 tenants: server time, Prometheus queries and SQL queries per page.

Builds a throw-away PostgreSQL database with N tenants (one registry each), generates what Prometheus would hold
for them (only the metrics the overview reads, around now and a day ago), backfills it into a real Prometheus
and asks the overview page and its API repeatedly. "cold" clears the console's Prometheus cache before each
request (every figure is asked of Prometheus); "warm" answers from the cache.

Runs twice: with the fleet columns computed from the raw counters (``PROMETHEUS_RECORDING_RULES=false``), then with
the recording rules of ``manage.py monitoring_rules`` loaded as a deployment loads them (the file under
``rule_files``; its series over the benchmark's minutes evaluated by promtool from the same file) and the default
setting (``auto``: the console finds them and reads them; "cold" also clears what it found, so it asks again).

Each run also prints where a cold page's time goes (medians, in the order the page spends it): the recording-rules
probe, starting the Prometheus queries, the SQL queries (database time) and turning their rows into objects while
Prometheus works, the wait for Prometheus's answers left after that, the range query for young pull counts, building
the rows (verdicts included), and rendering; then each query's own execution time as Prometheus reports it.

Run: ``.venv/bin/python bench/fleet_overview.py [--tenants 1000] [--iterations 20] [--mode raw|rules|both]
[--young N]`` (``--young``: that many tenants' registries younger than a day, so their pulls take the range query).
Prints medians; asserts nothing on time. Targets: median < 300 ms, Prometheus queries <= 12, SQL queries <= 15.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_hc_fleet_overview")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from monitoring import fleet, history, period_totals, queries, rules  # noqa: E402
from monitoring.fleet import PULLS_PERIOD, fleet_promql  # noqa: E402
from monitoring.history import FLEET_METRICS, MINUTE, TenantLoad, Tier  # noqa: E402
from monitoring.localprom import LocalPrometheus, backfill, backfill_rules  # noqa: E402
from monitoring.prometheus import PrometheusSource, capture_queries  # noqa: E402
from monitoring.rules import rules_yaml  # noqa: E402
from provisioning.models import Cluster, Registry  # noqa: E402
from tests.fixtures.prometheus import clear_prometheus_cache  # noqa: E402
from tests.monitoring.scale import add_registries  # noqa: E402

BENCH_TIERS = (
    Tier(-86400 - 10 * MINUTE, -86400 + 10 * MINUTE, 5 * MINUTE),
    Tier(-10 * MINUTE, 30 * MINUTE, MINUTE),
)
CONDITIONS = (history.HEALTHY,) * 6 + (history.ERRORS, history.NEAR_QUOTA, history.CRASHLOOP, history.DOWN)


def timed(client: Client, path: str, cold: bool, cpu: list[float] | None = None) -> float:
    """Wall time of one request in ms; its CPU time in the console's process is appended to ``cpu``."""
    if cold:
        clear_prometheus_cache()
    started, started_cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if cpu is not None:
        cpu.append((time.process_time() - started_cpu) * 1000)
    assert response.status_code == 200, response.status_code
    return elapsed


def prometheus_times(url: str) -> None:
    """Prometheus's own execution time of each query of a cold page (its query stats), median of 5: the fleet's
    columns, the rules probe in auto mode, and the young pulls' range query over the fleet and over the young."""
    at = PrometheusSource.from_settings().evaluation_time()
    asked: dict[str, tuple[str, dict[str, str | float]]] = {
        column: ("query", {"query": promql, "time": at}) for column, promql in fleet_promql().items()
    }
    if rules.mode() == rules.AUTO:
        asked["rules probe"] = ("query", {"query": rules.probe_promql(), "time": at})
    spec = period_totals.young_spec(period_totals.seconds(PULLS_PERIOD), at)
    span = {"start": spec.start, "end": spec.end, "step": spec.step}
    young = requests.get(
        f"{url}/api/v1/query",
        params={"query": fleet_promql()[fleet.YOUNG_PULLS], "time": str(at)},
        timeout=30,
    ).json()["data"]["result"]
    young_ns = sorted(item["metric"]["namespace"] for item in young)
    selectors = {"young range, whole fleet": queries.FLEET_SELECTOR}
    if young_ns:
        selectors[f"young range, {len(young_ns)} ns"] = (
            period_totals.namespaces_selector(young_ns) or queries.FLEET_SELECTOR
        )
    for label, selector in selectors.items():
        promql = period_totals.young_promql("pulls", selector, PULLS_PERIOD, at)
        asked[label] = ("query_range", {"query": promql, **span})
    for label, (endpoint, params) in asked.items():
        times = []
        for _ in range(5):
            body = requests.get(
                f"{url}/api/v1/{endpoint}", params={**params, "stats": "all"}, timeout=30
            ).json()
            times.append(body["data"]["stats"]["timings"]["execTotalTime"] * 1000)
        print(f"  Prometheus executes {label:<26} median {statistics.median(times):7.1f} ms")
    print("  (the page sends the column queries at once; the young range only when some registry is young,")
    print("   then over the young namespaces only)")


class Breakdown:
    """Where a request's time goes: the fleet builder's steps timed by wrapping them (bench-only)."""

    STEPS = (
        "rules probe",
        "start Prometheus queries",
        "SQL (database time)",
        "SQL rows to objects",
        "wait for Prometheus",
        "young pulls range query",
        "build rows (verdicts)",
        "rest of build_overview",
        "render (template / JSON)",
        "whole request",
    )

    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.current: dict[str, float] = defaultdict(float)

    def add(self, step: str, ms: float) -> None:
        self.current[step] += ms

    def wrap(self, owner: Any, name: str, step: str) -> Callable[[], None]:
        original = getattr(owner, name)

        def timed_call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(step, (time.perf_counter() - started) * 1000)

        setattr(owner, name, timed_call)
        return lambda: setattr(owner, name, original)

    @contextmanager
    def installed(self) -> Iterator[None]:
        undo = [
            self.wrap(rules, "loaded", "rules probe"),
            self.wrap(fleet, "young_pulls", "young pulls range query"),
            self.wrap(fleet, "build_rows", "build rows (verdicts)"),
        ]
        start_instant = PrometheusSource.start_instant

        def started(source: PrometheusSource, *args: Any, **kwargs: Any) -> Callable[[], Any]:
            begun = time.perf_counter()
            finish = start_instant(source, *args, **kwargs)
            self.add("start Prometheus queries", (time.perf_counter() - begun) * 1000)
            self.current["_sent"] = time.perf_counter()

            def waited() -> Any:
                begun = time.perf_counter()
                self.add("between", (begun - self.current.pop("_sent", begun)) * 1000)
                try:
                    return finish()
                finally:
                    self.add("wait for Prometheus", (time.perf_counter() - begun) * 1000)

            return waited

        setattr(PrometheusSource, "start_instant", started)  # noqa: B010 - typed differently on purpose
        undo.append(lambda: setattr(PrometheusSource, "start_instant", start_instant))
        build_overview = fleet.build_overview

        def overview(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            try:
                return build_overview(*args, **kwargs)
            finally:
                self.add("build_overview", (time.perf_counter() - begun) * 1000)

        import monitoring.api.views
        import monitoring.views

        modules = (monitoring.views, monitoring.api.views)
        for module in modules:
            setattr(module, "build_overview", overview)  # noqa: B010

        def restore() -> None:
            for module in modules:
                setattr(module, "build_overview", build_overview)  # noqa: B010

        undo.append(restore)

        def sql_time(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            begun = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                self.add("SQL (database time)", (time.perf_counter() - begun) * 1000)

        try:
            with connection.execute_wrapper(sql_time):
                yield
        finally:
            for step in undo:
                step()

    def request(self, client: Client, path: str) -> None:
        self.current = defaultdict(float)
        self.add("whole request", timed(client, path, cold=True))
        c = self.current
        c["SQL rows to objects"] = max(c["between"] - c["SQL (database time)"], 0.0)
        c["rest of build_overview"] = max(
            c["build_overview"]
            - sum(c[s] for s in ("start Prometheus queries", "between", "wait for Prometheus"))
            - c["rules probe"]  # asked while the queries are chosen, inside build_overview
            - c["young pulls range query"]
            - c["build rows (verdicts)"],
            0.0,
        )
        c["render (template / JSON)"] = max(c["whole request"] - c["build_overview"], 0.0)
        for step in self.STEPS:
            self.samples[step].append(c[step])

    def print(self, label: str) -> None:
        print(f"{label}: where a cold request's time goes (medians of {len(self.samples['whole request'])})")
        for step in self.STEPS:
            print(f"  {step:<30} {statistics.median(self.samples[step]):7.1f} ms")


def report(label: str, samples: list[float]) -> None:
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:<40} median {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms")


def costs(client: Client, path: str) -> tuple[int, int]:
    clear_prometheus_cache()
    with capture_queries() as sent, CaptureQueriesContext(connection) as sql:
        client.get(path)
    return len(sent), len(sql)


def build_fleet(tenants: int) -> list[TenantLoad]:
    cluster = Cluster.objects.create(name="bench", api_url="http://127.0.0.1:1", simulated=True)
    registries = add_registries(tenants, cluster)
    loads = []
    for index, registry in enumerate(
        Registry.objects.filter(pk__in=[r.pk for r in registries]).select_related("plan")
    ):
        effective = registry.effective()
        loads.append(
            TenantLoad(
                namespace=registry.namespace,
                plan=registry.plan.name,
                quota_bytes=effective.storage_quota_gib * 1024**3,
                parallel_limit=effective.parallel_request_limit,
                trivy=effective.trivy_enabled,
                condition=CONDITIONS[index % len(CONDITIONS)],
            )
        )
    return loads


def measure(client: Client, iterations: int) -> None:
    pages: dict[str, str] = {
        "page /monitoring/": "/monitoring/",
        "page /monitoring/ sorted by storage": "/monitoring/?sort=-storage_share",
        "API /api/v1/monitoring/fleet/": "/api/v1/monitoring/fleet/",
    }
    for path in pages.values():
        for _ in range(3):
            timed(client, path, cold=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work inflates wall times)")
    for label, path in pages.items():
        for cold in (True, False):
            cpu: list[float] = []
            samples = [timed(client, path, cold, cpu) for _ in range(iterations)]
            report(f"{label} ({'cold' if cold else 'warm'})", samples)
            print(f"{'':<40} console CPU median {statistics.median(cpu):6.1f} ms")
    for label, path in pages.items():
        if "sorted" in label:
            continue
        breakdown = Breakdown()
        with breakdown.installed():
            for _ in range(iterations):
                breakdown.request(client, path)
        breakdown.print(label)
    prometheus_times(settings.PROMETHEUS_URL)
    for label, path in pages.items():
        prom, sql = costs(client, path)
        print(
            f"{label:<40} Prometheus queries {prom:3d} (target <= 12)   SQL queries {sql:3d} (target <= 15)"
        )
    body = client.get("/monitoring/").content.decode()
    assert 'data-metrics-status="unavailable"' not in body, "Prometheus did not answer"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument(
        "--mode",
        choices=["raw", "rules", "both"],
        default="both",
        help="raw counters, recording rules, or both",
    )
    parser.add_argument(
        "--young",
        type=int,
        default=0,
        help="tenants whose metrics start ten minutes ago (younger than a day)",
    )
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    server: LocalPrometheus | None = None
    try:
        started = time.perf_counter()
        loads = build_fleet(args.tenants)
        now = int(time.time())
        young, old = loads[: args.young], loads[args.young :]
        generated = history.generate(old, now, tiers=BENCH_TIERS, only=FLEET_METRICS)
        backfill(generated, workdir / "tsdb", workdir / "openmetrics")
        if young:  # scraped only since ten minutes ago: their pulls per day come from the range query
            recent = history.generate(young, now, tiers=BENCH_TIERS[1:], only=FLEET_METRICS)
            backfill(recent, workdir / "tsdb", workdir / "openmetrics-young")
        server = LocalPrometheus(workdir / "tsdb", workdir)
        settings.PROMETHEUS_URL = server.start()
        print(
            f"{args.tenants} tenants ({args.young} younger than a day), {len(generated.series):,} series, "
            f"{generated.sample_count:,} samples; "
            f"set up in {time.perf_counter() - started:.0f} s"
        )
        viewer = User.objects.create_user("bench-viewer", password="x")
        viewer.groups.add(Group.objects.get(name="viewer"))
        client = Client()
        client.force_login(viewer)
        if args.mode in ("raw", "both"):
            print("\n== fleet columns from the raw counters ==")
            settings.PROMETHEUS_RECORDING_RULES = "false"
            measure(client, args.iterations)
        if args.mode in ("rules", "both"):
            # As a deployment: the file `manage.py monitoring_rules` prints, listed under rule_files (Prometheus
            # refuses to start on a file it cannot load). Its series are evaluated by promtool over the same
            # file, for the minutes the bench reads: the generated samples run 30 minutes past `now`, and
            # Prometheus does not append live evaluations older than the blocks it holds.
            rules_file = workdir / "harbor-console.rules.yml"
            rules_file.write_text(rules_yaml())
            backfill_rules(
                server.url, rules_yaml(), now - 5 * MINUTE, now + 25 * MINUTE, workdir / "tsdb", workdir
            )
            server.stop()
            server.rule_files = [rules_file]
            settings.PROMETHEUS_URL = server.start()
            settings.PROMETHEUS_RECORDING_RULES = "auto"
            print("\n== recording rules loaded (manage.py monitoring_rules), default setting auto ==")
            measure(client, args.iterations)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
