"""The periods pages and the API offer, and how each one is queried."""

from __future__ import annotations

import math
from dataclasses import dataclass

from monitoring.prometheus import RangeSpec

MIN_RATE_WINDOW = 300  # a rate needs several scrapes: never less than 5 minutes


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    seconds: int
    step: int  # chart resolution

    @property
    def window(self) -> str:
        """The rate window of a chart point: the step, and at least 5 minutes."""
        return f"{max(self.step, MIN_RATE_WINDOW)}s"

    def spec(self, end: float) -> RangeSpec:
        """A range ending at the last whole step at or before ``end``."""
        last = math.floor(end / self.step) * self.step
        return RangeSpec(start=last - self.seconds, end=last, step=self.step)


CHART_PERIODS: dict[str, Period] = {
    p.key: p
    for p in (
        Period("1h", "1 hour", 3600, 60),
        Period("6h", "6 hours", 6 * 3600, 300),
        Period("24h", "24 hours", 86400, 1200),
        Period("7d", "7 days", 7 * 86400, 7200),
    )
}
DEFAULT_CHART_PERIOD = "6h"

BUSINESS_PERIODS: dict[str, Period] = {
    p.key: p
    for p in (
        Period("1d", "1 day", 86400, 1800),
        Period("7d", "7 days", 7 * 86400, 4 * 3600),
        Period("30d", "30 days", 30 * 86400, 12 * 3600),
    )
}
DEFAULT_BUSINESS_PERIOD = "7d"
