"""The watch-fed view: API reads of a steady-state sweep, and time from a change on the cluster to its repair.

Real parts, each a process of its own: PostgreSQL, Redis (broker, locks and the watch cache), ``--workers``
``celery worker --pool=solo`` processes, the watcher (``manage.py watch_clusters``), the Kubernetes API emulator
and moto's S3. Setup creates ``--registries`` registries and lets the workers provision them; then the watcher starts.

1. A fleet sweep of every registry: the emulator's reads and writes while it runs (target 0 reads: every run reads
   the watch cache).
2. ``--changes`` changes, one after the other, each on another registry: another client deletes the registry's core
   Deployment; the figure is the time until the Deployment is back (the watcher saw the deletion, queued a run, a
   worker re-applied it). Median and p95. No sweep runs meanwhile.

Prints figures; asserts nothing on time. Cleans up everything it made.

Run: ``.venv/bin/python bench/watch.py [--registries 1000] [--changes 100] [--workers 2]``.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_hc_bench_watch")

import django

django.setup()

import redis  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from engine_support import running_emulator, running_s3, shared_services  # noqa: E402
from sweep import start_worker, wait_until  # noqa: E402

from provisioning.choices import Phase, RunStatus, RunTrigger  # noqa: E402
from provisioning.models import ReconcileRun, Registry  # noqa: E402
from provisioning.tasks import EXPIRED, sweep_fleet  # noqa: E402
from provisioning.watch import cache_synced  # noqa: E402
from tests import factories  # noqa: E402
from tests.fixtures.celery_worker import CeleryWorker, worker_env  # noqa: E402
from tests.fixtures.services import SHARED_POSTGRES, drop_test_objects  # noqa: E402

OTHER_WRITER = {"User-Agent": "kubectl/v1.33"}


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def repair_seconds(url: str, registry: Registry, timeout: float = 60.0) -> float:
    """Delete the registry's core Deployment as another client; seconds until the console has put it back."""
    path = f"{url}/apis/apps/v1/namespaces/{registry.namespace}/deployments/{registry.name}-core"
    requests.delete(path, headers=OTHER_WRITER, timeout=10).raise_for_status()
    started = time.monotonic()
    while requests.get(path, headers=OTHER_WRITER, timeout=10).status_code != 200:
        if time.monotonic() - started > timeout:
            raise SystemExit(f"{registry} was not repaired within {timeout:.0f} s")
        time.sleep(0.01)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=1000)
    parser.add_argument("--changes", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    queue = f"bench-watch-{uuid.uuid4().hex[:8]}"
    log_dir = Path(tempfile.mkdtemp(prefix="hc-bench-watch-"))
    old_config = setup_databases(verbosity=0, interactive=False)
    workers: list[CeleryWorker] = []
    watcher: subprocess.Popen[bytes] | None = None
    try:
        with running_s3() as s3, running_emulator() as emulator:
            cluster = factories.cluster(
                api_url=emulator.url,
                queue=queue,
                **shared_services(s3),
                capacity=args.registries,
            )
            plan = factories.plan("s")
            print(
                f"watch: {args.registries} registries, {args.workers} worker processes, one watcher process"
            )
            for _ in range(args.registries):
                factories.registry(cluster=cluster, plan=plan)
            workers = [start_worker(queue, index, log_dir) for index in range(args.workers)]
            ready = Registry.objects.filter(phase=Phase.READY)
            took = wait_until(lambda: ready.count() == args.registries, "the first rollout", 3600, every=2)
            wait_until(lambda: not ReconcileRun.objects.open().exists(), "follow-up runs", 600)
            print(f"  first rollout of the fleet: {took:.1f} s")

            with (log_dir / "watcher.log").open("wb") as log:
                watcher = subprocess.Popen(
                    [sys.executable, "manage.py", "watch_clusters"],
                    cwd=settings.BASE_DIR,
                    env=worker_env(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            took = wait_until(lambda: cache_synced(cluster.pk), "the watch cache", 600, every=0.2)
            print(f"  watcher synced (one LIST per kind for the whole cluster) in {took:.1f} s")

            emulator.reset_stats()
            sent = sweep_fleet()
            sweep_runs = ReconcileRun.objects.filter(trigger=RunTrigger.SWEEP)
            took = wait_until(
                lambda: not sweep_runs.filter(finished_at__isnull=True).exists(), "the sweep", 1800
            )
            stats = emulator.stats()
            statuses = dict(
                sweep_runs.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
            )
            expired = sweep_runs.filter(status=RunStatus.SKIPPED, error_message=EXPIRED).count()
            print(
                f"  steady-state sweep of {sent} registries: {stats['reads']} API reads (target 0), "
                f"{stats['writes']} writes, {took:.1f} s; runs by status {statuses} "
                f"({expired} expired unstarted: the sweep's runs expire after 0.9 sweep intervals)"
            )

            registries = list(Registry.objects.order_by("pk")[: args.changes])
            samples = [repair_seconds(emulator.url, registry) for registry in registries]
            watch_runs = ReconcileRun.objects.filter(trigger=RunTrigger.WATCH).count()
            print(
                f"  change -> repair over {len(samples)} registries: median {statistics.median(samples) * 1000:.0f} "
                f"ms, p95 {percentile(samples, 0.95) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms "
                f"(goal: within 5 s); watch-triggered runs: {watch_runs}"
            )
            print(f"  logs: {log_dir}")
    finally:
        if watcher is not None and watcher.poll() is None:
            watcher.terminate()
            watcher.wait(timeout=20)
        for worker in workers:
            worker.stop()
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(queue)
        drop_test_objects(SHARED_POSTGRES)
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
