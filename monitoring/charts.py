"""Server-side SVG line charts: no JavaScript, no CDN, readable axes with units, a few kilobytes each.

Every chart carries an accessible name, a legend, a dashed line for a limit when there is one, and one hover
band per time step whose tooltip lists the values at that time. The SVG scales with its box, its text with it:
the stylesheet sizes the axis labels per screen width so that they read at 11 px or more, and drops every other
time label on a phone (class ``odd``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

from monitoring.units import Unit, axis_label, format_value

PALETTE = ("#0b5cad", "#c2410c", "#1a7f37", "#8250df", "#bf8700", "#cf222e")
LIMIT_COLOUR = "#cf222e"

WIDTH = 440
HEIGHT = 200
MARGIN_LEFT = 80
MARGIN_RIGHT = 12
MARGIN_TOP = 12
MARGIN_BOTTOM = 28


@dataclass
class Line:
    label: str
    points: list[tuple[float, float | None]]


@dataclass
class Chart:
    key: str
    title: str
    unit: Unit
    start: float
    end: float
    lines: list[Line] = field(default_factory=list)
    limit: float | None = None
    limit_label: str = ""
    note: str = ""

    @property
    def has_data(self) -> bool:
        return any(v is not None for line in self.lines for _, v in line.points)

    def latest(self) -> list[tuple[str, float | None]]:
        """The last value of each line."""
        out = []
        for line in self.lines:
            values = [v for _, v in line.points if v is not None]
            out.append((line.label, values[-1] if values else None))
        return out

    def svg(self) -> SafeString:
        return render_svg(self)


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 × 10ⁿ; binary multiples for bytes are not needed at chart precision)."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def y_ticks(high: float, low: float = 0.0, binary: bool = False) -> list[float]:
    """Round ticks from ``low`` to at least ``high``; for bytes, round in KiB / MiB / GiB / TiB."""
    if binary and high > 0:
        scale = 1024 ** max(0, math.floor(math.log(max(abs(high), abs(low), 1), 1024)))
        return [t * scale for t in y_ticks(high / scale, low / scale)]
    step = nice_step(high - low)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 12))
    return ticks


_TIME_STEPS = (300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400)


def x_ticks(start: float, end: float, count: int = 6) -> list[float]:
    span = max(end - start, 1)
    step = next((s for s in _TIME_STEPS if span / s <= count), _TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    return [float(t) for t in range(int(first), int(end) + 1, step)]


def time_label(t: float, span: float) -> str:
    moment = datetime.fromtimestamp(t, tz=UTC)
    if span > 2 * 86400:
        return moment.strftime("%a %d") if moment.hour == 0 else moment.strftime("%a %H:%M")
    return moment.strftime("%H:%M")


def render_svg(chart: Chart) -> SafeString:
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    span = max(chart.end - chart.start, 1)
    values = [v for line in chart.lines for _, v in line.points if v is not None]
    if chart.limit is not None:
        values.append(chart.limit)
    high = max(values, default=1.0)
    low = min(0.0, min(values, default=0.0))
    if high <= low:
        high = low + 1.0
    binary = chart.unit in (Unit.BYTES, Unit.BYTES_PER_SECOND)
    ticks = y_ticks(high * 1.05 if high > 0 else high, low, binary)
    y_low, y_high = ticks[0], ticks[-1]

    def x(t: float) -> float:
        return MARGIN_LEFT + (t - chart.start) / span * plot_w

    def y(v: float) -> float:
        return MARGIN_TOP + (1 - (v - y_low) / (y_high - y_low)) * plot_h

    summary = ", ".join(f"{label} {format_value(v, chart.unit)}" for label, v in chart.latest())
    name = (
        f"{chart.title} over the period (times in UTC); latest: {summary}"
        if chart.has_data
        else f"{chart.title}: no data"
    )
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(name)}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(name)}</title>",
    ]
    for tick in ticks:
        ty = y(tick)
        parts.append(
            f'<line class="grid" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="tick y" x="{MARGIN_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">'
            f"{escape(axis_label(tick, chart.unit))}</text>"
        )
    for index, t in enumerate(x_ticks(chart.start, chart.end)):
        tx = x(t)
        odd = " odd" if index % 2 else ""
        parts.append(
            f'<line class="grid" x1="{tx:.1f}" x2="{tx:.1f}" y1="{MARGIN_TOP}" y2="{HEIGHT - MARGIN_BOTTOM}"/>'
            f'<text class="tick x{odd}" x="{tx:.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{escape(time_label(t, span))}</text>"
        )
    if chart.limit is not None:
        ly = y(chart.limit)
        parts.append(
            f'<line class="limit" x1="{MARGIN_LEFT}" x2="{WIDTH - MARGIN_RIGHT}" y1="{ly:.1f}" y2="{ly:.1f}" '
            f'stroke="{LIMIT_COLOUR}"/>'
        )
    for index, line in enumerate(chart.lines):
        colour = PALETTE[index % len(PALETTE)]
        for segment in _segments(line.points):
            if len(segment) == 1:
                t, v = segment[0]
                parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="{colour}"/>')
                continue
            coords = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in segment)
            parts.append(f'<polyline class="series" points="{coords}" stroke="{colour}"/>')
    parts.extend(_hover_bands(chart, x))
    if not chart.has_data:
        parts.append(
            f'<text class="empty" x="{MARGIN_LEFT + plot_w / 2:.0f}" y="{MARGIN_TOP + plot_h / 2:.0f}" '
            'text-anchor="middle">No data for this period</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text part above is escaped


def _segments(points: list[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    segments: list[list[tuple[float, float]]] = []
    current: list[tuple[float, float]] = []
    for t, v in points:
        if v is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((t, v))
    if current:
        segments.append(current)
    return segments


def _hover_bands(chart: Chart, x: object) -> list[str]:
    """Transparent bands, one per time step, whose native tooltip lists every line's value."""
    assert callable(x)
    times = sorted({t for line in chart.lines for t, _ in line.points})
    if not times:
        return []
    lookup = [dict(line.points) for line in chart.lines]
    span = max(chart.end - chart.start, 1)
    width = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(times), 1)
    bands = []
    for t in times:
        label = datetime.fromtimestamp(t, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
        values = "; ".join(
            f"{line.label}: {format_value(points.get(t), chart.unit)}"
            for line, points in zip(chart.lines, lookup, strict=True)
        )
        left = max(MARGIN_LEFT, x(t) - width / 2)
        bands.append(
            f'<rect class="hover" x="{left:.1f}" y="{MARGIN_TOP}" width="{width:.1f}" '
            f'height="{HEIGHT - MARGIN_TOP - MARGIN_BOTTOM}"><title>{escape(label)} — {escape(values)}</title></rect>'
        )
    del span
    return bands
