"""Time to provision and to check one registry's external services against real local services.

PostgreSQL is the machine's (127.0.0.1:5432), Redis one extra ``redis-server`` per registry (provider mode), object
storage moto in server mode with IAM. Measures per registry: first ``prepare_dependencies`` (creates roles, database,
bucket, IAM user and key), a steady ``prepare_dependencies`` (nothing to change), ``check_dependencies``, and the
two halves of a rotation. Prints medians and p95; asserts nothing on time. Cleans up every role, database and bucket.

Run: ``.venv/bin/python bench/dependencies.py [--registries N]``.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_hc_bench_services")

import django

django.setup()

from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from engine_support import shared_services  # noqa: E402

from provisioning.choices import CacheMode, Via  # noqa: E402
from provisioning.external import (  # noqa: E402
    check_dependencies,
    complete_rotations,
    prepare_dependencies,
    purge_dependencies,
)
from provisioning.models import Registry  # noqa: E402
from provisioning.services.rotation import rotate_credentials  # noqa: E402
from tests import factories  # noqa: E402
from tests.fixtures.services import SHARED_POSTGRES, RedisFactory, drop_test_objects, running_s3_server  # noqa: E402


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def report(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(f"{label:<40} median {statistics.median(samples):8.1f} ms   p95 {p95:8.1f} ms   (n={len(samples)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=20)
    count = parser.parse_args().registries
    old_config = setup_databases(verbosity=0, interactive=False)
    redis_servers = RedisFactory(Path(tempfile.mkdtemp(prefix="hc-bench-redis-")))
    try:
        with running_s3_server() as s3:
            cluster = factories.cluster(
                **shared_services(s3),
                s3_iam=True,
            )
            registries: list[Registry] = []
            for _ in range(count):
                registry = factories.registry(cluster=cluster, cache_mode=CacheMode.PROVIDER)
                server = redis_servers()
                registry.cache.host, registry.cache.port = server.host, server.port
                registry.cache.password = server.password
                registry.cache.save()
                registries.append(registry)

            def each(action: Callable[[Registry], object]) -> list[float]:
                return [timed(functools.partial(action, registry)) for registry in registries]

            first = each(prepare_dependencies)
            steady = each(prepare_dependencies)
            checks = each(check_dependencies)
            not_ready = [r for r in registries if not check_dependencies(r).ready]
            for registry in registries:
                rotate_credentials(registry, None, actor=None, via=Via.SYSTEM)
            starts = each(prepare_dependencies)
            ends = each(complete_rotations)
            purges = each(functools.partial(purge_dependencies, force=True))
            print(f"registries: {count} (PostgreSQL 127.0.0.1:5432, one redis-server each, moto S3 with IAM)")
            report("prepare_dependencies, first run", first)
            report("prepare_dependencies, nothing to change", steady)
            report("check_dependencies", checks)
            report("rotation start (prepare with rotation)", starts)
            report("complete_rotations", ends)
            report("purge_dependencies (force)", purges)
            print(f"registries not ready after prepare: {len(not_ready)}")
    finally:
        redis_servers.stop_all()
        drop_test_objects(SHARED_POSTGRES)
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
