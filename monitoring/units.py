"""Units of the figures monitoring shows, and how a person reads each one."""

from __future__ import annotations

import math
from enum import StrEnum


class Unit(StrEnum):
    COUNT = "count"
    RATIO = "ratio"  # 0..1, shown as a percentage
    SECONDS = "seconds"
    BYTES = "bytes"
    BYTES_PER_SECOND = "bytes_per_second"
    PER_SECOND = "per_second"
    PER_DAY = "per_day"
    CORES = "cores"
    DAYS = "days"
    STATE = "state"  # 1 = up / healthy, 0 = down
    LABEL = "label"  # the figure is a label value (e.g. a version)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Unit.COUNT: "",
    Unit.RATIO: "%",
    Unit.SECONDS: "s",
    Unit.BYTES: "B",
    Unit.BYTES_PER_SECOND: "B/s",
    Unit.PER_SECOND: "/s",
    Unit.PER_DAY: "/day",
    Unit.CORES: "cores",
    Unit.DAYS: "days",
    Unit.STATE: "",
    Unit.LABEL: "",
}

_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_SI = ("", "k", "M", "G", "T", "P")

MISSING = "—"


def _significant(value: float, digits: int = 3) -> str:
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def human_bytes(value: float) -> str:
    size = abs(value)
    index = 0
    while size >= 1024 and index < len(_BINARY) - 1:
        size /= 1024
        index += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{_significant(size)} {_BINARY[index]}"


def human_count(value: float) -> str:
    if abs(value) < 10_000:
        return _significant(value, 4) if not float(value).is_integer() else f"{int(value):,}"
    size = abs(value)
    index = 0
    while size >= 1000 and index < len(_SI) - 1:
        size /= 1000
        index += 1
    sign = "-" if value < 0 else ""
    return f"{sign}{_significant(size)}{_SI[index]}"


def human_seconds(value: float) -> str:
    size = abs(value)
    if size == 0:
        return "0 s"
    if size < 1e-3:
        return f"{_significant(value * 1e6)} µs"
    if size < 1:
        return f"{_significant(value * 1e3)} ms"
    if size < 120:
        return f"{_significant(value)} s"
    if size < 7200:
        return f"{_significant(value / 60)} min"
    return f"{_significant(value / 3600)} h"


def format_value(value: float | str | None, unit: Unit | str) -> str:
    """A figure as a person reads it, e.g. ``1.23 %``, ``45.6 ms``, ``12.3 GiB``; ``—`` when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    unit = Unit(unit)
    if unit == Unit.LABEL or isinstance(value, str):
        return str(value)
    if unit == Unit.RATIO:
        return f"{_significant(value * 100)} %"
    if unit == Unit.SECONDS:
        return human_seconds(value)
    if unit == Unit.BYTES:
        return human_bytes(value)
    if unit == Unit.BYTES_PER_SECOND:
        return f"{human_bytes(value)}/s"
    if unit == Unit.PER_SECOND:
        return f"{human_count(value)}/s"
    if unit == Unit.PER_DAY:
        return f"{human_count(value)}/day"
    if unit == Unit.CORES:
        return f"{_significant(value)} cores"
    if unit == Unit.DAYS:
        return f"{_significant(value)} days"
    if unit == Unit.STATE:
        return "up" if value >= 1 else "down"
    return human_count(value)


def axis_label(value: float, unit: Unit | str) -> str:
    """A short tick label for a chart axis."""
    unit = Unit(unit)
    if unit == Unit.STATE:
        return "up" if value >= 1 else ("down" if value <= 0 else "")
    if unit in (Unit.COUNT, Unit.PER_DAY):
        return human_count(value)
    return format_value(value, unit)
