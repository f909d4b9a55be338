"""What tracing costs per traced call: off (no endpoint), and on with spans made and handed to a batch processor
whose exporter drops them (the export itself runs in the processor's thread).

Measures, in CPU time of the calling thread, the wrappers the console puts around each Kubernetes request, each
external-service call and each reconcile, around a function that does nothing: the figure is the wrapper's own cost;
and what sending a task adds (the trace context put into its headers while a span is current).
Prints medians of ``--repeat`` rounds of ``--calls`` calls; asserts nothing on time.

Run: ``.venv/bin/python bench/tracing.py [--calls N] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from harborconsole import tracing


class Dropping(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class Gateway:
    host = "https://127.0.0.1:6443"

    @tracing.traced_kube_request
    def _request(self, verb: str, what: str, method: str, path: str) -> dict[str, Any]:
        return {}


class Provider:
    def check(self, binding: Any) -> None:
        return None


class Binding:
    registry_id = 1


@tracing.traced_reconcile
def reconcile(registry_id: int, run_id: int | None = None) -> None:
    return None


def per_call_ns(call: Callable[[], Any], calls: int, repeat: int) -> float:
    """CPU time of the calling thread per call (wall time on a shared machine mostly measures the others)."""
    rounds = []
    for _ in range(repeat):
        start = time.thread_time_ns()
        for _ in range(calls):
            call()
        rounds.append((time.thread_time_ns() - start) / calls)
    return statistics.median(rounds)


def measure(calls: int, repeat: int) -> dict[str, float]:
    gateway, binding = Gateway(), Binding()
    provider = tracing.traced_provider(Provider(), "database")
    figures = {
        "kube request": per_call_ns(lambda: gateway._request("get", "x", "GET", "/api/v1"), calls, repeat),
        "service call": per_call_ns(lambda: provider.check(binding), calls, repeat),
        "reconcile": per_call_ns(lambda: reconcile(1, 2), calls, repeat),
    }
    with tracing.span("request"):  # a task sent while a request's span is current gets its trace context
        figures["task publish"] = per_call_ns(lambda: tracing._task_published(headers={}), calls, repeat)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bare = per_call_ns(lambda: None, args.calls, args.repeat)
    tracing.shutdown()
    off = measure(args.calls, args.repeat)
    tracing.configure(processor=BatchSpanProcessor(Dropping(), max_queue_size=100_000))
    on = measure(args.calls, args.repeat)
    tracing.shutdown()
    print(
        f"tracing cost per call, CPU time of the calling thread ({args.calls} calls x {args.repeat} rounds, "
        f"medians; a bare call {bare:.0f} ns)"
    )
    for name in off:
        print(f"  {name:<14} off {off[name] / 1000:8.2f} µs   on {on[name] / 1000:8.2f} µs")


if __name__ == "__main__":
    main()
