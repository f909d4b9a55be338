"""The history generator is deterministic and writes what promtool accepts."""

from __future__ import annotations

import math

from monitoring import history
from monitoring.history import SHORT, TenantLoad

NOW = 1_800_000_000


def test_same_input_same_history() -> None:
    tenants = [
        TenantLoad("harbor-a-main", plan="s"),
        TenantLoad("harbor-b-main", plan="m", condition=history.ERRORS),
    ]
    first = history.generate(tenants, NOW, tiers=SHORT)
    second = history.generate(list(reversed(tenants)), NOW, tiers=SHORT)
    for key, values in first.series.items():
        assert list(values) == list(second.series[key]) or all(
            math.isnan(a) and math.isnan(b) for a, b in zip(values, second.series[key], strict=True)
        )


def test_openmetrics_windows_are_ordered_and_terminated() -> None:
    generated = history.generate([TenantLoad("harbor-a-main", plan="s")], NOW, tiers=SHORT)
    windows = list(generated.openmetrics_windows())
    assert [start for start, _ in windows] == sorted(start for start, _ in windows)
    for start, text in windows:
        assert text.endswith("# EOF\n")
        last_by_series: dict[str, int] = {}
        for line in text.splitlines()[:-1]:
            series, _value, ts = line.rsplit(" ", 2)
            assert start <= int(ts) < start + 7200
            assert last_by_series.get(series, -1) < int(ts), "samples of a series must be in time order"
            last_by_series[series] = int(ts)


def test_counters_never_decrease_and_down_means_no_core_samples() -> None:
    generated = history.generate([TenantLoad("harbor-d-main", plan="m", condition=history.DOWN)], NOW)
    for _labels, values in generated.select("harbor_core_http_request_total"):
        present = [v for v in values if not math.isnan(v)]
        assert present == sorted(present)
    recent = [i for i, t in enumerate(generated.times) if NOW - 10 * 60 <= t <= NOW]
    for _labels, values in generated.select("harbor_core_http_request_total"):
        assert all(math.isnan(values[i]) for i in recent)
    (health,) = [values for _labels, values in generated.select("harbor_health")]
    assert health[recent[-1]] == 0


def test_near_quota_tenants_fill_85_to_95_percent() -> None:
    load = TenantLoad("harbor-q-main", plan="s", quota_bytes=200 * 1024**3, condition=history.NEAR_QUOTA)
    generated = history.generate([load], NOW, tiers=SHORT)
    index = max(i for i, t in enumerate(generated.times) if t <= NOW)
    used = sum(values[index] for _labels, values in generated.select("harbor_project_quota_usage_byte"))
    assert 0.84 <= used / load.quota_bytes <= 0.96
