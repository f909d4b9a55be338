"""Throughput of the Kubernetes API emulator on the requests the console makes most.

The emulator runs as a process of its own (``python -m kubeemulator``), loaded with ``--registries`` rendered Harbor
stacks (one namespace each, applied with server-side apply as the console does). Then, through the console's own
``KubeGateway``: label-selected LISTs of one registry's Deployments (namespaced and across all namespaces), GETs,
and no-op server-side applies of a Deployment (nothing changes, the resourceVersion stays). Prints requests per
second (median of ``--rounds`` rounds of ``--requests`` requests each, one client thread) and the emulator's CPU
seconds per 1,000 requests; asserts nothing on time.

Run: ``.venv/bin/python bench/emulator.py [--registries 50] [--requests 400] [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from engine_support import cpu_seconds, running_emulator  # noqa: E402

from provisioning.kube import ClusterAccess, KubeGateway  # noqa: E402
from provisioning.rendering import ownership_selector, render_stack  # noqa: E402
from tests.rendering.specs import build_spec  # noqa: E402

MANAGER = "harbor-console"


def stack(index: int) -> list[dict[str, Any]]:
    spec = build_spec(registry_id=index + 1, namespace=f"tenant-{index:04}", tenant=f"t{index}", ha=True)
    return [dict(obj) for obj in render_stack(spec)]


def measure(label: str, action: Callable[[], object], requests: int, rounds: int, pid: int) -> None:
    for _ in range(min(20, requests)):
        action()
    rates, cpu = [], []
    for _ in range(rounds):
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        for _ in range(requests):
            action()
        elapsed = time.perf_counter() - started
        rates.append(requests / elapsed)
        cpu.append((cpu_seconds(pid) - cpu_before) * 1000 / requests)
    print(
        f"  {label:<52} {statistics.median(rates):8.0f} req/s   "
        f"emulator CPU {statistics.median(cpu):6.2f} s per 1,000"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registries", type=int, default=50)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with running_emulator() as emulator:
        gateway = KubeGateway(ClusterAccess(api_url=emulator.url), field_manager=MANAGER)
        started = time.perf_counter()
        objects = 0
        for index in range(args.registries):
            for obj in stack(index):
                gateway.apply(obj)
                objects += 1
        took = time.perf_counter() - started
        print(
            f"emulator: {args.registries} rendered stacks, {objects} objects applied in {took:.1f} s "
            f"({objects / took:.0f} creating applies/s)"
        )
        target = stack(args.registries // 2)
        deployment = next(obj for obj in target if obj["kind"] == "Deployment")
        namespace = deployment["metadata"]["namespace"]
        selector = ownership_selector(args.registries // 2 + 1, build_spec().installation)
        pid = emulator.process.pid
        print(f"one client thread, {args.rounds} rounds of {args.requests} requests (median):")
        measure(
            "LIST Deployments in a namespace, label-selected",
            lambda: gateway.list("apps/v1", "Deployment", namespace=namespace, label_selector=selector),
            args.requests,
            args.rounds,
            pid,
        )
        measure(
            "LIST Deployments in all namespaces, label-selected",
            lambda: gateway.list("apps/v1", "Deployment", label_selector=selector),
            args.requests,
            args.rounds,
            pid,
        )
        name = deployment["metadata"]["name"]
        measure(
            "GET one Deployment",
            lambda: gateway.get("apps/v1", "Deployment", name, namespace),
            args.requests,
            args.rounds,
            pid,
        )
        before = gateway.get("apps/v1", "Deployment", name, namespace) or {}
        measure(
            "no-op server-side apply of a Deployment",
            lambda: gateway.apply(deployment),
            args.requests,
            args.rounds,
            pid,
        )
        after = gateway.get("apps/v1", "Deployment", name, namespace) or {}
        same = before.get("metadata", {}).get("resourceVersion") == after.get("metadata", {}).get(
            "resourceVersion"
        )
        print(f"  no-op applies kept the resourceVersion: {same}")
        gateway.close()


if __name__ == "__main__":
    main()
