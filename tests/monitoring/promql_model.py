"""A reference model of the PromQL this suite checks, computed straight from the generated samples.

It follows Prometheus 2.x semantics (the Debian package is 2.42): an instant selector takes the latest sample in
[t - 5m, t]; a range selector takes the samples in [t - range, t]; ``increase``/``rate`` extrapolate like
Prometheus's ``extrapolatedRate``; a subquery ``[range:step]`` evaluates at the multiples of ``step`` in
[t - range, t]; ``predict_linear`` is an ordinary least-squares fit with the intercept at t. It never uses the
console's code, so a figure the console shows and the figure computed here agree only if both are right.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable

from monitoring.history import History

LOOKBACK = 300.0

Series = tuple[dict[str, str], list[tuple[float, float]]]


class Model:
    def __init__(self, history: History) -> None:
        self.history = history
        self.times = [float(t) for t in history.times]
        self._series: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[Series]] = {}

    def series(self, name: str, namespace: str, **match: str) -> list[Series]:
        key = (name, namespace, tuple(sorted(match.items())))
        if key not in self._series:
            out = []
            for labels, values in self.history.select(name, namespace=namespace, **match):
                points = [(t, v) for t, v in zip(self.times, values, strict=True) if not math.isnan(v)]
                out.append((labels, points))
            self._series[key] = out
        return self._series[key]

    # --- selectors

    @staticmethod
    def latest(points: list[tuple[float, float]], t: float) -> float | None:
        index = bisect.bisect_right(points, (t, math.inf)) - 1
        if index < 0 or points[index][0] < t - LOOKBACK:
            return None
        return points[index][1]

    @staticmethod
    def window(points: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
        low = bisect.bisect_left(points, (start, -math.inf))
        high = bisect.bisect_right(points, (end, math.inf))
        return points[low:high]

    # --- functions

    @classmethod
    def increase(cls, points: list[tuple[float, float]], t: float, range_s: float) -> float | None:
        return cls._extrapolated(points, t, range_s, counter=True, rate=False)

    @classmethod
    def rate(cls, points: list[tuple[float, float]], t: float, range_s: float) -> float | None:
        return cls._extrapolated(points, t, range_s, counter=True, rate=True)

    @classmethod
    def _extrapolated(
        cls, points: list[tuple[float, float]], t: float, range_s: float, *, counter: bool, rate: bool
    ) -> float | None:
        start, end = t - range_s, t
        samples = cls.window(points, start, end)
        if len(samples) < 2:
            return None
        result = samples[-1][1] - samples[0][1]
        if counter:
            last = 0.0
            for _, v in samples:
                if v < last:
                    result += last
                last = v
        to_start = samples[0][0] - start
        to_end = end - samples[-1][0]
        sampled = samples[-1][0] - samples[0][0]
        average = sampled / (len(samples) - 1)
        if counter and result > 0 and samples[0][1] >= 0:
            to_zero = sampled * (samples[0][1] / result)
            to_start = min(to_start, to_zero)
        threshold = average * 1.1
        interval = sampled
        interval += to_start if to_start < threshold else average / 2
        interval += to_end if to_end < threshold else average / 2
        result = result * (interval / sampled)
        return result / range_s if rate else result

    @staticmethod
    def subquery_times(t: float, range_s: float, step: float) -> list[float]:
        first = math.ceil((t - range_s) / step) * step
        out = []
        at = first
        while at <= t:
            out.append(at)
            at += step
        return out

    @staticmethod
    def predict_linear(points: list[tuple[float, float]], t: float, horizon: float) -> float | None:
        if len(points) < 2:
            return None
        n = len(points)
        xs = [ts - t for ts, _ in points]
        ys = [v for _, v in points]
        if all(y == ys[0] for y in ys):
            return ys[0]
        sum_x, sum_y = sum(xs), sum(ys)
        sum_xy = sum(x * y for x, y in zip(xs, ys, strict=True))
        sum_x2 = sum(x * x for x in xs)
        cov = sum_xy - sum_x * sum_y / n
        var = sum_x2 - sum_x * sum_x / n
        slope = cov / var
        intercept = sum_y / n - slope * sum_x / n
        return slope * horizon + intercept

    # --- aggregation helpers

    @staticmethod
    def total(values: Iterable[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return sum(present) if present else None

    def sum_latest(self, name: str, namespace: str, t: float, **match: str) -> float | None:
        return self.total(self.latest(points, t) for _, points in self.series(name, namespace, **match))

    def sum_rate(self, name: str, namespace: str, t: float, range_s: float, **match: str) -> float | None:
        return self.total(
            self.rate(points, t, range_s) for _, points in self.series(name, namespace, **match)
        )

    def sum_increase(self, name: str, namespace: str, t: float, range_s: float, **match: str) -> float | None:
        return self.total(
            self.increase(points, t, range_s) for _, points in self.series(name, namespace, **match)
        )


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def close(a: float | None, b: float | None, rel: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


# --- the figures the console shows, from the model ---------------------------------------------------------------

DAY = 86400.0


def storage_used(m: Model, ns: str, t: float) -> float | None:
    return m.sum_latest("harbor_project_quota_usage_byte", ns, t)


def error_ratio(m: Model, ns: str, t: float, window: float = 300) -> float | None:
    errors = m.total(
        m.rate(points, t, window)
        for labels, points in m.series("harbor_core_http_request_total", ns)
        if labels["code"].startswith("5")
    )
    everything = m.sum_rate("harbor_core_http_request_total", ns, t, window)
    if everything is None:
        return None
    return ratio(errors if errors is not None else 0.0, everything)


def mean_latency(m: Model, ns: str, t: float, window: float = 300) -> float | None:
    return ratio(
        m.sum_rate("harbor_core_http_request_duration_seconds_sum", ns, t, window),
        m.sum_rate("harbor_core_http_request_duration_seconds_count", ns, t, window),
    )


def request_rate(m: Model, ns: str, t: float, window: float = 300) -> float | None:
    return m.sum_rate("harbor_core_http_request_total", ns, t, window)


def pulls(m: Model, ns: str, t: float, period: float = DAY) -> float | None:
    """Per project: the running total now minus a period ago, negative differences counted as zero."""
    values = []
    for _, points in m.series("harbor_artifact_pulled", ns):
        now, before = m.latest(points, t), m.latest(points, t - period)
        if now is not None and before is not None:
            values.append(max(now - before, 0.0))
    return sum(values) if values else None


def pushes(m: Model, ns: str, t: float, period: float = DAY) -> float | None:
    return m.sum_increase(
        "harbor_core_http_request_total", ns, t, period, operation="v2_manifest", method="PUT", code="201"
    )


def egress(m: Model, ns: str, t: float, period: float) -> float | None:
    return m.sum_increase("registry_http_response_size_bytes_sum", ns, t, period, handler="blob")


def storage_growth(m: Model, ns: str, t: float, period: float) -> float | None:
    now, before = storage_used(m, ns, t), storage_used(m, ns, t - period)
    return None if now is None or before is None else now - before


def storage_forecast(m: Model, ns: str, t: float) -> float | None:
    points = []
    for at in m.subquery_times(t, 7 * DAY, 3600):
        value = storage_used(m, ns, at)
        if value is not None:
            points.append((at, value))
    return m.predict_linear(points, t, 30 * DAY)


def peak_inflight(m: Model, ns: str, t: float, period: float) -> float | None:
    values = [
        m.sum_latest("harbor_core_http_inflight_requests", ns, at) for at in m.subquery_times(t, period, 300)
    ]
    present = [v for v in values if v is not None]
    return max(present) if present else None


def pods_not_ready(m: Model, ns: str, t: float) -> float | None:
    return m.sum_latest("kube_pod_status_ready", ns, t, condition="false")


def components(m: Model, ns: str, t: float) -> dict[str, float | None]:
    return {labels["component"]: m.latest(points, t) for labels, points in m.series("harbor_up", ns)}


Figure = Callable[[Model, str, float], float | None]


# --- figures over a period, over the data that exists -------------------------------------------------------------


def first_on_grid(m: Model, points: list[tuple[float, float]], t: float, period: float, step: float):
    """The first (time, value) an instant selector finds at ``t - period``, ``t - period + step``, … ``t``."""
    at = t - period
    while at <= t + 1e-6:
        value = m.latest(points, at)
        if value is not None:
            return at, value
        at += step
    return None


def storage_growth_existing(m: Model, ns: str, t: float, period: float, step: float):
    """(growth, since): growth over the period, or since the first figure when the data is younger."""
    now, before = storage_used(m, ns, t), storage_used(m, ns, t - period)
    if now is None:
        return None, None
    if before is not None:
        return now - before, None
    at = t - period
    while at <= t + 1e-6:
        value = storage_used(m, ns, at)
        if value is not None:
            return now - value, at
        at += step
    return None, None


def pulls_existing(m: Model, ns: str, t: float, period: float, step: float):
    """(pulls, since): per project now minus a period ago (or its first figure), drops counting zero; ``since``
    only when no project of the namespace is as old as the period."""
    total, old, starts = [], False, []
    for _, points in m.series("harbor_artifact_pulled", ns):
        now, before = m.latest(points, t), m.latest(points, t - period)
        if now is None:
            continue
        if before is not None:
            old = True
            total.append(max(now - before, 0.0))
            continue
        first = first_on_grid(m, points, t, period, step)
        if first is not None:
            starts.append(first[0])
            total.append(max(now - first[1], 0.0))
    if not total:
        return None, None
    return sum(total), (None if old else min(starts))
