"""Requests and time per reconcile of converged registries, against the Kubernetes API emulator.

Each registry's dependencies are real (the machine's PostgreSQL, moto's S3, the managed Redis rendered in its
namespace). For every registry: one first reconcile (creates the stack), then ``--runs`` no-op reconciles as a sweep
runs them (no run row unless the run does something), whose requests are counted at the emulator. Then every stack is
edited with another field manager (``kubectl``: a value the console sets changed, a field it does not list added),
repaired by one reconcile, and measured again. Targets: 0 writes and at most 1 read per kind per no-op reconcile
(edited stacks included), and no call to PostgreSQL, S3 or Redis (the dependencies did not change:
``prepare_changed_dependencies`` reads the bindings); the time spent inside such calls is printed as "external-service
time". Prints medians and p95; asserts nothing on time. Cleans up every database, role and bucket it made.

Run: ``.venv/bin/python bench/reconcile.py [--registries N] [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "test_hc_bench_reconcile")

import django

django.setup()

from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from engine_support import running_emulator, running_s3, running_watcher, shared_services  # noqa: E402
from kubernetes import client  # noqa: E402

from provisioning import external  # noqa: E402
from provisioning.choices import Phase, RunTrigger  # noqa: E402
from provisioning.external import dependencies as dependency_module  # noqa: E402
from provisioning.models import ReconcileRun  # noqa: E402
from provisioning.reconcile import engine, reconcile  # noqa: E402
from tests import factories  # noqa: E402
from tests.engine.helpers import someone_else  # noqa: E402
from tests.fixtures.services import SHARED_POSTGRES, drop_test_objects  # noqa: E402


def report(label: str, samples: list[float], unit: str = "ms") -> None:
    samples = sorted(samples)
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"  {label:<44} median {statistics.median(samples):8.1f} {unit}   p95 {p95:8.1f} {unit}   (n={len(samples)})"
    )


class Stopwatch:
    """Time spent inside one function, summed per call of the code under it (the bench's own probe)."""

    def __init__(self, owner: Any, name: str) -> None:
        self.owner, self.name, self.spent = owner, name, 0.0
        self.original: Callable[..., Any] = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return self.original(*args, **kwargs)
            finally:
                self.spent += (time.perf_counter() - start) * 1000

        setattr(owner, name, timed)

    def take(self) -> float:
        spent, self.spent = self.spent, 0.0
        return spent


class ServiceTime:
    """Calls to the shared services' providers (PostgreSQL, S3, Redis) and the time spent in them."""

    def __init__(self) -> None:
        self.calls, self.spent = 0, 0.0
        original = dependency_module.provider_for

        def timed_provider(binding: Any) -> Any:
            provider, meter = original(binding), self

            class Timed:
                def __getattr__(self, name: str) -> Any:
                    method = getattr(provider, name)

                    def call(*args: Any, **kwargs: Any) -> Any:
                        start = time.perf_counter()
                        try:
                            return method(*args, **kwargs)
                        finally:
                            meter.calls += 1
                            meter.spent += (time.perf_counter() - start) * 1000

                    return call

            return Timed()

        dependency_module.provider_for = timed_provider

    def take(self) -> tuple[int, float]:
        taken = (self.calls, self.spent)
        self.calls, self.spent = 0, 0.0
        return taken


def edit_as_kubectl(emulator: Any, registry: Any) -> None:
    """Another field manager changes the core Deployment's replicas and adds a key to the portal's ConfigMap."""
    with someone_else(emulator) as api:
        apps: Any = client.AppsV1Api(api)
        apps.patch_namespaced_deployment(
            f"{registry.name}-core", registry.namespace, {"spec": {"replicas": 5}}
        )
        core: Any = client.CoreV1Api(api)
        core.patch_namespaced_config_map(
            f"{registry.name}-portal", registry.namespace, {"data": {"extra.conf": "x"}}
        )


def print_requests(label: str, counted: tuple[list[int], list[int], Counter[int]]) -> None:
    writes, reads, reads_per_kind = counted
    print(f"  {label}: writes per no-op reconcile: max {max(writes)} (target 0)")
    print(f"  {label}: reads per no-op reconcile: max {max(reads)}, over {len(engine.RENDERED_KINDS)} kinds")
    per_kind = ", ".join(f"{n} read(s): {count}" for n, count in sorted(reads_per_kind.items()))
    print(f"  {label}: reads per kind per run: {per_kind} (target at most 1)")


class Probes:
    """The bench's probes: time in ``prepare_changed_dependencies``, in the shared services and in ``compare``."""

    def __init__(self) -> None:
        self.dependencies = Stopwatch(external, "prepare_changed_dependencies")
        self.services = ServiceTime()
        self.comparing = Stopwatch(engine, "compare")

    def reset(self) -> None:
        self.dependencies.take()
        self.comparing.take()
        self.services.take()


def measure_noop(label: str, emulator: Any, registries: list[Any], runs: int, probes: Probes) -> None:
    """``runs`` no-op sweep reconciles of every registry: time, CPU, external-service calls, API requests."""
    probes.reset()
    steady: list[float] = []
    cpu: list[float] = []
    in_dependencies: list[float] = []
    in_compare: list[float] = []
    service_calls: list[int] = []
    service_ms: list[float] = []
    writes: list[int] = []
    reads: list[int] = []
    reads_per_kind: Counter[int] = Counter()
    for _ in range(runs):
        for registry in registries:
            emulator.reset_stats()
            start, cpu_start = time.perf_counter(), time.process_time()
            outcome = reconcile(registry.pk, trigger=RunTrigger.SWEEP)
            steady.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - cpu_start) * 1000)
            in_dependencies.append(probes.dependencies.take())
            in_compare.append(probes.comparing.take())
            calls, spent = probes.services.take()
            service_calls.append(calls)
            service_ms.append(spent)
            stats = emulator.stats()
            writes.append(stats["writes"])
            reads.append(stats["reads"])
            for verbs in stats["by_kind"].values():
                reads_per_kind[verbs.get("list", 0) + verbs.get("get", 0)] += 1
            assert outcome.status == "succeeded", outcome
    print(f" {label}")
    report("no-op reconcile (target < 20 ms with the watch cache)", steady)
    report("  CPU of this process (the engine) per no-op", cpu)
    report("  of which prepare_changed_dependencies", in_dependencies)
    report("    of which external-service time (PG, S3, Redis)", service_ms)
    report(
        "  of which the rest (DB, render, reads, compare)",
        [s - d for s, d in zip(steady, in_dependencies, strict=True)],
    )
    report("    of which compare (drift, foreign changes)", in_compare)
    print(f"  calls to PostgreSQL/S3/Redis per no-op reconcile: max {max(service_calls)} (target 0)")
    print_requests("converged", (writes, reads, reads_per_kind))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5, help="no-op reconciles per registry")
    args = parser.parse_args()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        with running_s3() as s3, running_emulator() as emulator:
            cluster = factories.cluster(
                api_url=emulator.url,
                **shared_services(s3),
            )
            registries = [factories.registry(cluster=cluster) for _ in range(args.registries)]
            probes = Probes()
            first = []
            created = []
            for registry in registries:
                start = time.perf_counter()
                outcome = reconcile(registry.pk)
                first.append((time.perf_counter() - start) * 1000)
                assert outcome.phase == Phase.READY, outcome
                created.append(ReconcileRun.objects.filter(registry=registry).latest("pk").created)
            for _ in range(2):  # every registry's managed Redis is seen Ready, the last statuses recorded
                for registry in registries:
                    reconcile(registry.pk)

            objects = statistics.median(created)
            print(
                f"reconcile: {args.registries} registries of {objects:.0f} objects, {args.runs} no-op runs each"
            )
            report("first reconcile (creates the stack)", first)
            measure_noop(
                "without the watch cache (a LIST per kind):", emulator, registries, args.runs, probes
            )

            repairs: list[int] = []
            for registry in registries:
                edit_as_kubectl(emulator, registry)
                emulator.reset_stats()
                outcome = reconcile(registry.pk)
                assert outcome.status == "succeeded", outcome
                repairs.append(emulator.stats()["writes"])
            print(f"  edited by kubectl: writes of the repairing reconcile: max {max(repairs)}")
            measure_noop("edited by kubectl, repaired:", emulator, registries, args.runs, probes)

            log = Path(tempfile.mkdtemp(prefix="hc-bench-reconcile-")) / "watcher.log"
            with running_watcher(cluster.pk, log) as synced:
                print(f" the watcher synced its cache in {synced:.1f} s")
                measure_noop(
                    "with the watch cache (manage.py watch_clusters running):",
                    emulator,
                    registries,
                    args.runs,
                    probes,
                )
    finally:
        drop_test_objects(SHARED_POSTGRES)
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
