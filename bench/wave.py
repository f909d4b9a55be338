"""A wave of ``--registries`` registries (1,000) in batches of ``--batch`` (50) on the emulator: time to plan, then
per batch the wall time and SQL queries of the wave's steps (its upgrades' reconciles, migration Jobs and
readiness reads included) and of the gate.

Real parts: the console's PostgreSQL database, the Kubernetes API emulator (its own process), a real Prometheus
loaded by promtool backfill with flat traffic for every namespace (every batch passes its gate). Left out: the
shared services. Each registry's bindings are written as provisioned and checked, and the reconciles' dependency
step answers "ready" at once (``bench/dependencies.py`` measures that part), so the figures are the wave's and the
engine's own. The wave's clock is moved by the benchmark (the gate window and pauses are not waited for in real
time). Prints figures; asserts nothing on time.

Run: ``.venv/bin/python bench/wave.py [--registries 1000] [--batch 50] [--batches N] [--until HH:MM] [--profile]``:
the wave is planned over all the registries; each batch's registries get their first rollout just before the batch
starts (timed apart, not in the batch's figures). ``--batches`` runs only the first N batches, ``--until`` starts no
batch that would end past that UTC time (on a shared machine a full run takes over an hour); the rest is aborted and
a projection for all batches is printed, labelled as such. Each batch's line is printed as it passes its gate.
``--profile`` prints where the wave's time (cProfile) and SQL (by statement and table) went.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_hc_bench_wave")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402
from engine_support import running_emulator  # noqa: E402

from monitoring.localprom import LocalPrometheus, binary  # noqa: E402
from monitoring.prometheus import PrometheusSource  # noqa: E402
from provisioning import external  # noqa: E402
from provisioning.choices import BindingStatus, Phase, Via  # noqa: E402
from provisioning.external.dependencies import DependencyReport  # noqa: E402
from provisioning.models import (  # noqa: E402
    BatchStatus,
    CacheBinding,
    DatabaseBinding,
    Registry,
    StorageBinding,
    Wave,
    WaveBatch,
    WaveStatus,
)
from provisioning.reconcile import reconcile  # noqa: E402
from provisioning.upgrades import waves  # noqa: E402
from tests import factories  # noqa: E402

WINDOW = 60
STEP = 15


class QueryCount:
    """SQL statements run inside ``with connection.execute_wrapper(counter)`` (no cap, unlike the query log)."""

    def __init__(self, shapes: Counter[str] | None = None) -> None:
        self.count = 0
        self.shapes = shapes

    def __call__(self, execute: Any, sql: Any, params: Any, many: Any, context: Any) -> Any:
        self.count += 1
        if self.shapes is not None:
            self.shapes[_shape(str(sql))] += 1
        return execute(sql, params, many, context)


def _shape(sql: str) -> str:
    """The statement's verb and table, enough to see where the queries go."""
    words = sql.split()
    verb = words[0].upper() if words else "?"
    table = next(
        (words[i + 1] for i, w in enumerate(words[:-1]) if w.upper() in ("FROM", "INTO", "UPDATE")), "?"
    )
    return f"{verb} {table.strip(chr(34))}"


def checked_bindings(now: datetime) -> None:
    """Every binding as the external services leave a provisioned, checked one."""
    common = {"status": BindingStatus.OK, "last_checked_at": now, "provisioned_at": now}
    DatabaseBinding.objects.update(
        host="127.0.0.1", username="harbor", password="bench-db-password", **common
    )
    CacheBinding.objects.update(password="bench-cache-password", **common)
    StorageBinding.objects.update(
        endpoint="http://127.0.0.1:9000", access_key="AKIABENCH", secret_key="bench-s3-secret", **common
    )


def history(path: Path, namespaces: list[str], start: int, end: int) -> None:
    """Flat traffic: 1 % 5xx and an unchanging latency histogram for every namespace, every 15 s."""
    with path.open("w") as out:
        for namespace in namespaces:
            labels = f'namespace="{namespace}",operation="v2_manifest",method="GET"'
            for code, share in (("200", 0.99), ("500", 0.01)):
                for i, t in enumerate(range(start, end + 1, STEP)):
                    out.write(
                        f'harbor_core_http_request_total{{{labels},code="{code}"}} {(i + 1) * 1500 * share:.0f} {t}\n'
                    )
            for le, share in (("0.1", 0.5), ("0.5", 0.97), ("+Inf", 1.0)):
                for i, t in enumerate(range(start, end + 1, STEP)):
                    out.write(
                        f'registry_http_request_duration_seconds_bucket{{namespace="{namespace}",le="{le}"}} '
                        f"{(i + 1) * 750 * share:.0f} {t}\n"
                    )
        out.write("# EOF\n")


def _p95(values: list[float] | list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))])


def _deadline(until: str) -> float | None:
    """``HH:MM`` (UTC, today) as a time stamp; None without one."""
    if not until:
        return None
    hours, minutes = (int(part) for part in until.split(":"))
    return datetime.now(UTC).replace(hour=hours, minute=minutes, second=0, microsecond=0).timestamp()


def _first_rollout(batch: WaveBatch, emulator: Any, requests: dict[str, int]) -> float:
    """Roll out the batch's registries at their current version (the wave's setup, timed apart); the emulator's
    requests meanwhile are kept in ``requests`` so that the wave's own can be told apart."""
    before = emulator.stats()
    started = time.monotonic()
    ids = list(batch.members.values_list("registry_id", flat=True))
    for pk in ids:
        reconcile(pk)
    took = time.monotonic() - started
    after = emulator.stats()
    for name in requests:
        requests[name] += after[name] - before[name]
    ready = Registry.objects.filter(pk__in=ids, phase=Phase.READY).count()
    if ready != len(ids):
        print(
            f"  batch {batch.index + 1}: only {ready} of {len(ids)} registries Ready after their first rollout"
        )
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--batches", type=int, default=0, help="run only the first N batches (0: all)")
    parser.add_argument(
        "--until", default="", help="HH:MM UTC: start no batch that would end past it (prints a projection)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="print where the wave's time (cProfile) and SQL (by table) go"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="hc-bench-wave-"))
    external.prepare_dependencies = lambda registry: DependencyReport([])
    external.prepare_changed_dependencies = lambda registry: DependencyReport([])
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        with running_emulator() as emulator:
            cluster = factories.cluster(
                api_url=emulator.url,
                backup_marker="bench: PITR",
                egress_cidrs=["127.0.0.1/32"],
                capacity=args.registries,
            )
            plan = factories.plan("s")
            print(f"wave: {args.registries} registries in batches of {args.batch}, on the emulator")
            started = time.monotonic()
            for _ in range(args.registries):
                factories.registry(cluster=cluster, plan=plan, harbor_version="2.14.4", trivy_enabled=False)
            checked_bindings(timezone.now())
            print(f"  created {args.registries} registry rows in {time.monotonic() - started:.1f} s")
            batches = -(-args.registries // args.batch)
            now = datetime.now(UTC).replace(microsecond=0)
            clock = now - timedelta(seconds=(batches + 2) * WINDOW)
            namespaces = list(Registry.objects.values_list("namespace", flat=True))
            started = time.monotonic()
            history(
                work / "history.om", namespaces, int(clock.timestamp()) - 2 * WINDOW, int(now.timestamp())
            )
            subprocess.run(
                [binary("promtool"), "tsdb", "create-blocks-from", "openmetrics", "--quiet",
                 str(work / "history.om"), str(work / "tsdb")],
                check=True, capture_output=True,
            )  # fmt: skip
            print(f"  Prometheus history backfilled in {time.monotonic() - started:.1f} s")
            server = LocalPrometheus(work / "tsdb", work)
            server.start()
            try:
                queries = QueryCount()
                with connection.execute_wrapper(queries):
                    started = time.monotonic()
                    wave = waves.plan_wave(
                        Wave(
                            name="bench", target_version="2.15.2", from_version="2.14.4",
                            batch_size=args.batch, pause_seconds=0, window_seconds=WINDOW,
                        ),
                        actor="bench", via=Via.CLI,
                    )  # fmt: skip
                    planned = time.monotonic() - started
                print(
                    f"  plan: {planned * 1000:.0f} ms, {queries.count} SQL queries, {wave.batches.count()} batches"
                )
                run = args.batches or batches
                stop_at = _deadline(args.until)
                waves.start_wave(wave, actor="bench", via=Via.CLI, drive=False)
                Wave.objects.filter(pk=wave.pk).update(next_step_at=clock)
                source = PrometheusSource(server.url, cache_seconds=0, timeout=30)
                seconds: dict[int, float] = defaultdict(float)
                cpu: dict[int, float] = defaultdict(float)
                sql: dict[int, int] = defaultdict(int)
                gate_seconds: list[float] = []
                rollout_seconds: list[float] = []
                rollout_requests = {"reads": 0, "writes": 0}
                emulator.reset_stats()
                profiler = cProfile.Profile() if args.profile else None
                shapes: Counter[str] = Counter()
                advanced: Wave | None = None
                stopped = ""
                wall = time.monotonic()
                while True:
                    current = wave.batches.exclude(
                        status__in=[BatchStatus.PASSED, BatchStatus.FAILED]
                    ).first()
                    index = current.index if current else -1
                    gating = current is not None and current.status == BatchStatus.GATING
                    if current is not None and current.status == BatchStatus.PENDING:
                        done = [seconds[i] + rollout_seconds[i] for i in range(len(rollout_seconds))]
                        if index >= run or (stop_at and done and time.time() + max(done) > stop_at):
                            stopped = "" if index >= run else f"--until {args.until} reached"
                            advanced = waves.abort_wave(wave, actor="bench", via=Via.CLI)
                            break
                        rollout_seconds.append(_first_rollout(current, emulator, rollout_requests))
                    counted = QueryCount(shapes if args.profile else None)
                    with connection.execute_wrapper(counted):
                        started, cpu_started = time.monotonic(), time.process_time()
                        if profiler is not None:
                            profiler.enable()
                        advanced = waves.advance_wave(wave.pk, now=clock, source=lambda: source)
                        if profiler is not None:
                            profiler.disable()
                        took = time.monotonic() - started
                    seconds[index] += took
                    cpu[index] += time.process_time() - cpu_started
                    sql[index] += counted.count
                    if gating:
                        gate_seconds.append(took)
                        print(
                            f"  batch {index + 1}: {seconds[index]:.1f} s ({cpu[index]:.1f} s CPU in this process), "
                            f"{sql[index]} SQL "
                            f"(first rollout of its registries before it, not counted: {rollout_seconds[index]:.1f} s)",
                            flush=True,
                        )
                    assert advanced is not None
                    if advanced.status != WaveStatus.RUNNING:
                        break
                    if advanced.next_step_at and advanced.next_step_at > clock:
                        clock = advanced.next_step_at
                stats = emulator.stats()
                elapsed = time.monotonic() - wall
                if profiler is not None:
                    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
                    print("SQL by statement and table:")
                    for shape, count in shapes.most_common(30):
                        print(f"  {count:8d}  {shape}")
            finally:
                server.stop()
            per_batch = [seconds[i] for i in sorted(seconds) if i >= 0]
            queries_per_batch = [sql[i] for i in sorted(sql) if i >= 0]
            cpu_per_batch = [cpu[i] for i in sorted(cpu) if i >= 0]
            ran = len(per_batch)
            print(
                f"  wave ended {advanced.get_status_display()}{': ' + advanced.reason if advanced.reason else ''}"
                f"{' (' + stopped + ')' if stopped else ''}"
            )
            print(
                f"  per batch of {args.batch}: median {statistics.median(per_batch):.1f} s, "
                f"p95 {_p95(per_batch):.1f} s, max {max(per_batch):.1f} s "
                f"({statistics.median(per_batch) / args.batch * 1000:.0f} ms per registry); "
                f"total {sum(per_batch):.0f} s for {ran} of {batches} batches"
            )
            print(
                f"  CPU of this process per batch (the console's side; wall time above also waits for the machine, "
                f"PostgreSQL and the emulator): median {statistics.median(cpu_per_batch):.1f} s, "
                f"p95 {_p95(cpu_per_batch):.1f} s"
            )
            print(
                f"  SQL per batch: median {statistics.median(queries_per_batch):.0f}, "
                f"p95 {_p95(queries_per_batch):.0f}, max {max(queries_per_batch)} "
                f"({statistics.median(queries_per_batch) / args.batch:.0f} per registry: upgrade steps and reconciles)"
            )
            print(
                f"  gate (Prometheus, 3 queries twice): median {statistics.median(gate_seconds) * 1000:.0f} ms"
            )
            print(
                f"  first rollout before each batch (setup, not counted above): median "
                f"{statistics.median(rollout_seconds):.1f} s per batch; wall time of the wave with it {elapsed:.0f} s"
            )
            wave_reads = stats["reads"] - rollout_requests["reads"]
            wave_writes = stats["writes"] - rollout_requests["writes"]
            print(
                f"  emulator during the wave's steps: {wave_writes} writes, {wave_reads} reads "
                f"({wave_reads / (ran * args.batch):.0f} per registry upgraded)"
            )
            if ran < batches:
                print(
                    f"  PROJECTION (not measured): all {batches} batches at the measured median would take "
                    f"{statistics.median(per_batch) * batches / 60:.1f} min of wave steps "
                    f"(p95: {_p95(per_batch) * batches / 60:.1f} min), "
                    f"{statistics.median(queries_per_batch) * batches:.0f} SQL"
                )
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
