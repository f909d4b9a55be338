"""Charts are self-contained SVG with readable axes and units; figures read the way people expect."""

from __future__ import annotations

import re

from monitoring.charts import Chart, Line, nice_step, x_ticks, y_ticks
from monitoring.units import Unit, format_value


def test_units_read_naturally() -> None:
    assert format_value(0.01234, Unit.RATIO) == "1.23 %"
    assert format_value(0.0456, Unit.SECONDS) == "45.6 ms"
    assert format_value(3.5, Unit.SECONDS) == "3.5 s"
    assert format_value(12.3 * 1024**3, Unit.BYTES) == "12.3 GiB"
    assert format_value(5 * 1024**4, Unit.BYTES) == "5 TiB"
    assert format_value(1234, Unit.COUNT) == "1,234"
    assert format_value(2_500_000, Unit.COUNT) == "2.5M"
    assert format_value(3.2, Unit.PER_SECOND) == "3.2/s"
    assert format_value(1, Unit.STATE) == "up" and format_value(0, Unit.STATE) == "down"
    assert format_value(None, Unit.BYTES) == "—"
    assert format_value(float("nan"), Unit.RATIO) == "—"


def test_ticks_are_round_and_cover_the_data() -> None:
    assert nice_step(97) == 25
    ticks = y_ticks(97)
    assert ticks[0] == 0 and ticks[-1] >= 97 and len(ticks) <= 6
    hours = x_ticks(0, 6 * 3600)
    assert all(t % 3600 == 0 for t in hours) and len(hours) >= 4


def chart(
    points: list[tuple[float, float | None]], unit: Unit = Unit.BYTES, limit: float | None = None
) -> str:
    c = Chart(
        "storage", "Storage used", unit, 1_700_000_000, 1_700_021_600, [Line("Used", points)], limit=limit
    )
    return str(c.svg())


def test_svg_has_axes_in_units_a_limit_line_and_tooltips() -> None:
    t0 = 1_700_000_000
    svg = chart([(t0 + i * 300, (100 + i) * 1024**3) for i in range(73)], limit=200 * 1024**3)
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "GiB" in svg and "UTC" in svg
    assert re.search(r"\d\d:\d\d</text>", svg)
    assert 'class="limit"' in svg
    assert svg.count("<polyline") == 1
    assert svg.count('class="hover"') == 73
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")  # nothing fetched from elsewhere
    assert len(svg) < 30_000


def test_gaps_split_the_line_and_empty_charts_say_so() -> None:
    t0 = 1_700_000_000
    svg = chart([(t0, 1.0), (t0 + 60, 2.0), (t0 + 120, None), (t0 + 180, 3.0), (t0 + 240, 4.0)], Unit.COUNT)
    assert svg.count("<polyline") == 2
    assert "No data for this period" in chart([], Unit.COUNT)


def test_labels_are_escaped() -> None:
    c = Chart("x", "<script>", Unit.COUNT, 0, 3600, [Line("<b>", [(0, 1.0), (60, 2.0)])])
    svg = str(c.svg())
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "<b>" not in svg


def test_byte_axes_step_in_binary_units() -> None:
    from monitoring.charts import y_ticks

    ticks = y_ticks(5.2 * 1024**4, binary=True)
    assert all((t / 1024**4) == round(t / 1024**4, 6) for t in ticks)  # whole TiB steps, not 1.82 TiB
    assert ticks[-1] >= 5.2 * 1024**4
