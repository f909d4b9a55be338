"""Time to render one full Harbor stack: objects only, objects + YAML, and the spec hash of every object.

Also times PyYAML's C-accelerated ``CSafeDumper`` on the same objects, the reason the manifest stream keeps the
console's own emitter (``rendering/yaml_text.py``; same output as before, checked by the tests to read back exactly).
Run: ``.venv/bin/python bench/render.py [--iterations N]``. Prints median, p95 and the fastest run (on a shared,
loaded machine the fastest is the one least disturbed by other work); asserts nothing on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "harborconsole.settings")

import django
import yaml

django.setup()

from provisioning.reconcile.compare import spec_hash  # noqa: E402
from provisioning.rendering import render_helm_values, render_stack, render_yaml  # noqa: E402
from tests.rendering.specs import MANAGED_CACHE, build_spec  # noqa: E402


class _CDumper(yaml.CSafeDumper):
    def ignore_aliases(self, data: object) -> bool:
        return True


def pyyaml_c(objects: list[dict[str, object]]) -> str:
    text: str = yaml.dump_all(
        objects, Dumper=_CDumper, sort_keys=False, default_flow_style=False, width=1000, explicit_start=True
    )
    return text


def measure(label: str, action: Callable[[], object], iterations: int) -> None:
    for _ in range(min(50, iterations)):
        action()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"{label:<44} median {statistics.median(samples):7.3f} ms   p95 {p95:7.3f} ms   "
        f"min {samples[0]:7.3f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iterations", type=int, default=1000)
    iterations = parser.parse_args().iterations
    full = build_spec(harbor_version="2.15.2", ha=True, trivy_enabled=True)
    managed = build_spec(harbor_version="2.15.2", ha=True, cache=MANAGED_CACHE)
    print(
        f"iterations: {iterations}; objects per stack: {len(render_stack(full))} (provider Redis, HA, trivy), "
        f"{len(render_stack(managed))} (managed Redis)"
    )
    measure("render_stack (provider Redis, HA, trivy)", lambda: render_stack(full), iterations)
    measure("render_stack (managed Redis, HA, trivy)", lambda: render_stack(managed), iterations)
    measure("render_stack + render_yaml", lambda: render_yaml(render_stack(full)), iterations)
    objects = render_stack(full)
    measure("render_yaml alone", lambda: render_yaml(objects), iterations)
    measure("PyYAML CSafeDumper alone (for comparison)", lambda: pyyaml_c(objects), max(50, iterations // 10))
    measure("spec_hash of every object of the stack", lambda: [spec_hash(obj) for obj in objects], iterations)
    measure("render_helm_values", lambda: render_helm_values(full), iterations)


if __name__ == "__main__":
    main()
