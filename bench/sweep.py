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
from typing import Any

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
from engine_support import (  # noqa: E402
    EmulatorProcess,
    cpu_seconds,
    running_emulator,
    running_s3,
    running_watcher,
    shared_services,
)

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


def prebind(first: Registry, others: list[Registry]) -> None:
    """Give ``others`` the dependencies ``first`` was really provisioned with (one database role, one bucket: the
    stacks only run on the emulator), recorded as provisioned and checked OK, as the periodic check leaves them:
    their reconciles then read the bindings, as a converged fleet's do, without creating 5,000 databases."""
    from provisioning.external.desired import desired_hash
    from provisioning.models import CacheBinding, DatabaseBinding, StorageBinding

    now = timezone.now()
    models: tuple[Any, ...] = (DatabaseBinding, StorageBinding, CacheBinding)
    for model in models:
        source = model.objects.get(registry=first)
        rows = []
        for binding in model.objects.filter(registry__in=others).select_related(
            "registry__cluster", "registry__plan"
        ):
            for field in source._meta.concrete_fields:
                if field.name not in ("id", "registry"):
                    setattr(binding, field.attname, getattr(source, field.attname))
            binding.last_checked_at = binding.status_since = now
            binding.provisioned_hash = desired_hash(binding)
            rows.append(binding)
        fields = [f.name for f in source._meta.concrete_fields if f.name not in ("id", "registry")]
        model.objects.bulk_update(rows, fields, batch_size=500)


def checked_now() -> None:
    """What the periodic dependency check does between two sweeps: every binding's last check is recent."""
    from provisioning.models import CacheBinding, DatabaseBinding, StorageBinding

    for model in (DatabaseBinding, StorageBinding, CacheBinding):
        model.objects.update(last_checked_at=timezone.now())


def sweep_once(
    label: str, emulator: EmulatorProcess, workers: list[CeleryWorker], processes: dict[str, list[int]]
) -> None:
    """One ``sweep_fleet`` of the whole fleet, timed until every registry was reconciled since it started."""
    checked_now()
    emulator.reset_stats()
    load_before = os.getloadavg()[0]
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
    wait_until(lambda: not behind.exists(), "the sweep", 3600, every=0.1)
    took = time.monotonic() - started  # the fan-out included
    cpu = {name: sum(cpu_seconds(pid) for pid in pids) - cpu_before[name] for name, pids in processes.items()}
    stats = emulator.stats()
    counts = sweep_runs.aggregate(
        succeeded=Count("pk", filter=Q(status=RunStatus.SUCCEEDED)),
        other=Count("pk", filter=~Q(status=RunStatus.SUCCEEDED)),
    )
    durations = sorted(d for d in sweep_runs.values_list("duration_ms", flat=True) if d is not None)
    p95 = durations[int(len(durations) * 0.95)] if durations else 0.0
    print(f"  {label}")
    print(
        f"    sweep of {sent} converged registries: {took:.1f} s ({sent / took:.0f} registries/s) (target < 15 s)"
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
        print(f"    CPU of {name}: {seconds:.1f} s ({seconds * 1000 / max(sent, 1):.1f} ms per registry)")
    print(
        f"    load average: {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--prebound",
        action="store_true",
        help="provision one registry's dependencies for real and bind the others to the same ones (see prebind)",
    )
    parser.add_argument("--skip-listing", action="store_true", help="only the sweep with the watch cache")
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
            mode = "dependencies pre-bound" if args.prebound else "a database and a bucket each"
            print(
                f"sweep: {args.registries} registries ({mode}), {args.workers} worker processes (solo pool)"
            )
            started = time.monotonic()
            registries = [factories.registry(cluster=cluster, plan=plan) for _ in range(args.registries)]
            print(f"  created {args.registries} registry rows in {time.monotonic() - started:.1f} s")
            if args.prebound:
                from provisioning.reconcile import reconcile

                reconcile(registries[0].pk)
                prebind(registries[0], registries[1:])
            workers = [start_worker(queue, index, log_dir) for index in range(args.workers)]
            if args.prebound:
                from provisioning.tasks import reconcile_batch

                for start in range(0, len(registries), 50):
                    ids = [r.pk for r in registries[start : start + 50]]
                    reconcile_batch.apply_async(args=(ids,), queue=queue)

            ready = Registry.objects.filter(phase=Phase.READY)
            took = wait_until(lambda: ready.count() == args.registries, "the first rollout", 7200, every=2)
            print(f"  first rollout of the fleet (46 objects each): {took:.1f} s")
            wait_until(lambda: not ReconcileRun.objects.open().exists(), "follow-up runs", 600)

            processes = {
                "workers": [w.process.pid for w in workers],
                "emulator": [emulator.process.pid],
                "S3 (moto)": [s3.pid],
                "this process (sweep fan-out)": [os.getpid()],
            }
            sweep_once(
                "a sweep to settle (statuses the first rollout left to record)", emulator, workers, processes
            )
            if not args.skip_listing:
                sweep_once(
                    "without the watch cache (a LIST per kind and registry)", emulator, workers, processes
                )
            cache = redis.Redis.from_url(settings.REDIS_URL)
            memory_before = int(cache.info("memory")["used_memory"])
            with running_watcher(cluster.pk, log_dir / "watcher.log") as synced:
                memory = int(cache.info("memory")["used_memory"]) - memory_before
                print(
                    f"  the watcher synced its cache in {synced:.1f} s; Redis memory it holds: "
                    f"{memory / 2**20:.0f} MiB ({memory / 1024 / args.registries:.0f} KiB per registry)"
                )
                processes["watcher"] = []
                sweep_once(
                    "with the watch cache (manage.py watch_clusters running)", emulator, workers, processes
                )
                sweep_once("with the watch cache, once more", emulator, workers, processes)
    finally:
        for worker in workers:
            worker.stop()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
        drop_test_objects(SHARED_POSTGRES)
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
