"""A wave batch's gate: did each upgraded registry serve as well after its upgrade as before, per Prometheus?

For each namespace, over ``window`` seconds: the 5xx ratio of Harbor core's requests
(``harbor_core_http_request_total``) and the p95 latency of the registry's requests
(``registry_http_request_duration_seconds``, a histogram: core's latency is a summary, whose quantiles cannot be
aggregated), evaluated once at the batch's start (before) and once a window after its upgrade finished (after). A
registry passes when the ratio rose by at most ``error_margin`` and the p95 by at most ``latency_margin`` (a
fraction). A figure Prometheus does not have is unknown, and unknown never passes: the gate says so, and a person
decides (resume accepts the batch).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitoring.prometheus import PrometheusSource

_NS = 'namespace=~"{namespaces}"'
ERRORS = 'sum by (namespace) (rate(harbor_core_http_request_total{{code=~"5..",' + _NS + "}}[{window}s]))"
REQUESTS = "sum by (namespace) (rate(harbor_core_http_request_total{{" + _NS + "}}[{window}s]))"
P95 = (
    "histogram_quantile(0.95, sum by (le, namespace) "
    "(rate(registry_http_request_duration_seconds_bucket{{" + _NS + "}}[{window}s])))"
)


@dataclass(frozen=True)
class Figures:
    error_ratio: float | None
    p95_seconds: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"error_ratio": self.error_ratio, "p95_seconds": self.p95_seconds}


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str
    failing: dict[str, str] = field(default_factory=dict)
    """Namespace → why it failed."""
    figures: dict[str, Any] = field(default_factory=dict)


def queries(namespaces: Sequence[str], window: int) -> dict[str, str]:
    selector = "|".join(sorted(namespaces))
    return {
        name: template.format(namespaces=selector, window=window)
        for name, template in (("errors", ERRORS), ("requests", REQUESTS), ("p95", P95))
    }


def read_figures(
    source: PrometheusSource, namespaces: Sequence[str], at: datetime, window: int
) -> tuple[dict[str, Figures], str]:
    """Figures per namespace at ``at``, and why there are none ("" when Prometheus answered)."""
    batch = source.instant(queries(namespaces, window), at=at.timestamp())
    if not batch.ok:
        return {}, batch.message or "Prometheus did not answer"
    errors, requests, p95 = batch["errors"].by(), batch["requests"].by(), batch["p95"].by()
    figures = {}
    for namespace in namespaces:
        total = requests.get(namespace)
        ratio = None
        if total is not None and total > 0:
            ratio = (errors.get(namespace) or 0.0) / total
        latency = p95.get(namespace)
        figures[namespace] = Figures(
            ratio, latency if latency is not None and math.isfinite(latency) else None
        )
    return figures, ""


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{value * 100:.1f} %"


def _seconds(value: float | None) -> str:
    return "unknown" if value is None else f"{value * 1000:.0f} ms"


def judge(before: Figures, after: Figures, error_margin: float, latency_margin: float) -> str:
    """Why this registry fails the gate ("" when it passes)."""
    reasons = []
    if before.error_ratio is None or after.error_ratio is None:
        reasons.append(
            f"5xx ratio unknown (before {_percent(before.error_ratio)}, after {_percent(after.error_ratio)}: "
            "Prometheus has no request rate for it)"
        )
    elif after.error_ratio > before.error_ratio + error_margin:
        reasons.append(
            f"5xx ratio rose from {_percent(before.error_ratio)} to {_percent(after.error_ratio)} "
            f"(allowed: +{error_margin * 100:.1f} points)"
        )
    if before.p95_seconds is None or after.p95_seconds is None:
        reasons.append(
            f"p95 latency unknown (before {_seconds(before.p95_seconds)}, after {_seconds(after.p95_seconds)})"
        )
    elif after.p95_seconds > before.p95_seconds * (1 + latency_margin):
        reasons.append(
            f"p95 latency rose from {_seconds(before.p95_seconds)} to {_seconds(after.p95_seconds)} "
            f"(allowed: +{latency_margin * 100:.0f} %)"
        )
    return "; ".join(reasons)


def evaluate(
    source: PrometheusSource,
    namespaces: Sequence[str],
    *,
    before_at: datetime,
    after_at: datetime,
    window: int,
    error_margin: float,
    latency_margin: float,
) -> Verdict:
    """The batch's verdict: every namespace judged, before against after."""
    if not source.configured:
        return Verdict(
            False, "No Prometheus is configured (PROMETHEUS_URL): the gate cannot tell how the batch serves."
        )
    before, why = read_figures(source, namespaces, before_at, window)
    after, why_after = (read_figures(source, namespaces, after_at, window)) if not why else ({}, why)
    if why or why_after:
        return Verdict(False, f"Prometheus could not be read ({why or why_after}): the gate cannot tell.")
    failing: dict[str, str] = {}
    figures: dict[str, Any] = {}
    for namespace in namespaces:
        reason = judge(before[namespace], after[namespace], error_margin, latency_margin)
        figures[namespace] = {"before": before[namespace].as_dict(), "after": after[namespace].as_dict()}
        if reason:
            failing[namespace] = reason
    if failing:
        listed = "; ".join(f"{namespace}: {reason}" for namespace, reason in sorted(failing.items()))
        return Verdict(False, listed, failing, figures)
    return Verdict(True, "Every registry serves as well as before.", {}, figures)
