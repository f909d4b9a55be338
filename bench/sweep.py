"""Time to sweep a fleet of converged registries with two Celery worker processes against the emulator.

Real parts: PostgreSQL (the console's database and every tenant's database), Redis (the broker and the locks), two
``celery worker --pool=solo`` processes, the Kubernetes API emulator and moto's S3, each a process of its own.
Setup creates ``--registries`` registries and lets the workers provision them (that first rollout is timed too);
then ``sweep_fleet`` fans the registries out in batches (``SWEEP_BATCH_SIZE``) and the time until every registry
has been reconciled since (its ``last_reconciled_at``) is the figure (target for 1,000 registries: under 15 s once
the watch cache spares the LISTs). A quiet run writes no run row (it is counted on the registry): the rows written
and the quiet runs are printed. Prints figures; asserts nothing on time. Cleans up everything it made.

Run: ``.venv/bin/python bench/sweep.py [--registries 1000] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_hc_bench_sweep")

import django

django.setup()

import redis  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Count, Q, Sum  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402
from engine_support import cpu_seconds, running_emulator, running_s3, shared_services  # noqa: E402

from provisioning.choices import Phase, RunStatus, RunTrigger  # noqa: E402
from provisioning.models import ReconcileRun, Registry  # noqa: E402
from provisioning.tasks import sweep_fleet  # noqa: E402
from tests import factories  # noqa: E402
from tests.fixtures.celery_worker import CELERY, CeleryWorker, worker_env  # noqa: E402
from tests.fixtures.services import SHARED_POSTGRES, drop_test_objects  # noqa: E402


def start_worker(queue: str, index: int, log_dir: Path) -> CeleryWorker:
    name = f"bench{index}-{uuid.uuid4().hex[:6]}@%h"
    log_path = log_dir / f"worker-{index}.log"
    command = [
        CELERY, "-A", "harborconsole", "worker", "--pool=solo", "-Q", queue, "-n", name,
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=worker_env({"RECONCILE_MAX_RETRIES": "3"}),
            cwd=settings.BASE_DIR,
            start_new_session=True,
        )
    worker = CeleryWorker(queue, name, process, log_path)
    deadline = time.monotonic() + 60
    while " ready." not in worker.log() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    return worker


def wait_until(check: Callable[[], bool], what: str, timeout: float, every: float = 0.5) -> float:
    """Seconds until ``check()`` is true."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise SystemExit(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(every)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    queue = f"bench-sweep-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tempfile.mkdtemp(prefix="hc-bench-sweep-"))
    old_config = setup_databases(verbosity=0, interactive=False)
    workers: list[CeleryWorker] = []
    try:
        with running_s3() as s3, running_emulator() as emulator:
            cluster = factories.cluster(
                api_url=emulator.url,
                queue=queue,
                **shared_services(s3),
                capacity=args.registries,
            )
            plan = factories.plan("s")
            print(f"sweep: {args.registries} registries, {args.workers} worker processes (solo pool)")
            started = time.monotonic()
            for _ in range(args.registries):
                factories.registry(cluster=cluster, plan=plan)
            print(f"  created {args.registries} registry rows in {time.monotonic() - started:.1f} s")
            workers = [start_worker(queue, index, log_dir) for index in range(args.workers)]

            ready = Registry.objects.filter(phase=Phase.READY)
            took = wait_until(lambda: ready.count() == args.registries, "the first rollout", 3600, every=2)
            print(f"  first rollout of the fleet (databases, buckets, 46 objects each): {took:.1f} s")
            wait_until(lambda: not ReconcileRun.objects.open().exists(), "follow-up runs", 600)

            emulator.reset_stats()
            load_before = os.getloadavg()[0]
            processes = {
                "workers": [w.process.pid for w in workers],
                "emulator": [emulator.process.pid],
                "S3 (moto)": [s3.pid],
                "this process (sweep fan-out)": [os.getpid()],
            }
            cpu_before = {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in processes.items()}
            rows_before = ReconcileRun.objects.count()
            quiet_before = Registry.objects.aggregate(n=Sum("quiet_runs"))["n"] or 0
            since = timezone.now()
            started = time.monotonic()
            sent = sweep_fleet()
            sweep_runs = ReconcileRun.objects.filter(trigger=RunTrigger.SWEEP, requested_at__gte=since)
            behind = Registry.objects.live().filter(
                Q(last_reconciled_at__isnull=True) | Q(last_reconciled_at__lt=since)
            )
            took = wait_until(lambda: not behind.exists(), "the sweep", 1800, every=0.1)
            cpu = {
                name: sum(cpu_seconds(pid) for pid in pids) - cpu_before[name]
                for name, pids in processes.items()
            }
            stats = emulator.stats()

            counts = sweep_runs.aggregate(
                succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
                other=Count("pk", filter=~Q(status=RunStatus.SUCCEEDED)),
            )
            durations = sorted(d for d in sweep_runs.values_list("duration_ms", flat=True) if d is not None)
            p95 = durations[int(len(durations) * 0.95)] if durations else 0.0
            rate = sent / took
            print(
                f"  sweep of {sent} converged registries: {took:.1f} s ({rate:.0f} registries/s) (target < 15 s)"
            )
            quiet = (Registry.objects.aggregate(n=Sum("quiet_runs"))["n"] or 0) - quiet_before
            rows = ReconcileRun.objects.count() - rows_before
            print(
                f"    quiet runs (counted, no row) {quiet}; run rows written {rows} "
                f"(sweep runs that did something: succeeded {counts['succeeded']}, other {counts['other']})"
            )
            busy = took * len(workers) * 1000 / max(sent, 1)
            print(
                f"    worker wall time per registry: {busy:.1f} ms ({len(workers)} workers x {took:.1f} s / {sent})"
            )
            if durations:
                print(f"    run duration median {statistics.median(durations):.0f} ms, p95 {p95:.0f} ms")
            print(
                f"    emulator: {stats['writes']} writes (target 0), {stats['reads']} reads "
                f"({stats['reads'] / max(sent, 1):.1f} per registry)"
            )
            for name, seconds in cpu.items():
                print(
                    f"    CPU of {name}: {seconds:.1f} s ({seconds * 1000 / max(sent, 1):.1f} ms per registry)"
                )
            load_after = os.getloadavg()[0]
            print(
                f"    load average: {load_before:.1f} before, {load_after:.1f} after, on {os.cpu_count()} cores"
            )
    finally:
        for worker in workers:
            worker.stop()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
        drop_test_objects(SHARED_POSTGRES)
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
