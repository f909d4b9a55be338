"""Figures over a period (pulls in the last day, storage growth over 7 days) computed over the data that exists.

The catalogue's queries compare a value now with the value one period ago (``offset``): exact, but silent for a
registry or project younger than the period. One range query per figure covers those: the ``@`` modifier makes
it select only the series that had no value a period ago, and the first value each of them had in the period
stands in for the missing one. The figure then says since when it counts, so a page can tell a short history
from a whole period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template

from monitoring.prometheus import RangeSpec, Result

USAGE = "harbor_project_quota_usage_byte"
PULLED = "harbor_artifact_pulled"

YOUNG_PROMQL = {
    # every project series (namespace, project_name, …): pulls are counted per project, drops count zero
    "pulls": Template(f"{PULLED}{{$sel}} unless {PULLED}{{$sel}} @ $at offset $range"),
    # one series per namespace
    "storage_growth": Template(
        f"sum by (namespace) ({USAGE}{{$sel}}) unless on (namespace) "
        f"sum by (namespace) ({USAGE}{{$sel}} @ $at offset $range)"
    ),
}
YOUNG_NAMESPACES_PROMQL = {
    # one instant query: the namespaces holding a project series now that had none a period ago
    "pulls": Template(f"count by (namespace) ({PULLED}{{$sel}} unless {PULLED}{{$sel}} offset $range)"),
}
NAMESPACE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
STEPS = (60, 300, 600, 900, 1800, 3600, 7200, 14400, 21600, 43200, 86400)
MAX_POINTS = 200


@dataclass(frozen=True)
class Young:
    """The change of one namespace's young series over the part of the period they exist in."""

    value: float
    since: float
    """When the earliest of them first had a value (Unix seconds)."""


def seconds(period: str) -> int:
    """``1d`` → 86400 (the periods the pages use: s, m, h, d, w)."""
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}[period[-1]]
    return int(period[:-1]) * unit


def young_spec(period_seconds: int, at: float) -> RangeSpec:
    """Points from ``at`` − period to ``at``, the finest step that keeps them under :data:`MAX_POINTS`."""
    step = next(
        (s for s in STEPS if period_seconds % s == 0 and period_seconds // s <= MAX_POINTS), STEPS[-1]
    )
    return RangeSpec(start=at - period_seconds, end=at, step=step)


def young_promql(figure: str, selector: str, period: str, at: float) -> str:
    return YOUNG_PROMQL[figure].substitute(sel=selector, range=period, at=f"{at:.3f}")


def young_namespaces_promql(figure: str, selector: str, period: str) -> str:
    """Which namespaces hold series of ``figure`` younger than ``period`` (those present now only): asked as an
    instant query, so the range query of :func:`young_promql` reads only them, not every tenant's series over
    the whole period (on a fleet of a thousand, most of the fleet overview's Prometheus time)."""
    return YOUNG_NAMESPACES_PROMQL[figure].substitute(sel=selector, range=period)


def namespaces_selector(namespaces: list[str]) -> str | None:
    """A label matcher for exactly these namespaces, or None when one is not a Kubernetes namespace name."""
    if not namespaces or not all(NAMESPACE_NAME.match(ns) for ns in namespaces):
        return None
    return f'namespace=~"{"|".join(sorted(namespaces))}"'


def young_by_namespace(figure: str, result: Result) -> dict[str, Young]:
    """Per namespace, the change of its young series from their first value to their last (pulls: per project,
    a drop counting zero)."""
    out: dict[str, Young] = {}
    for series in result.series if result.ok else []:
        present = [(t, v) for t, v in series.points if v is not None]
        if not present:
            continue
        (first_t, first), (_, last) = present[0], present[-1]
        change = max(last - first, 0.0) if figure == "pulls" else last - first
        ns = series.labels.get("namespace", "")
        known = out.get(ns)
        out[ns] = Young(known.value + change, min(known.since, first_t)) if known else Young(change, first_t)
    return out


def merge(
    whole: dict[str, float | None], young: dict[str, Young]
) -> tuple[dict[str, float | None], dict[str, float]]:
    """The figure of every namespace, and since when it counts for those with less history than the period.

    ``whole`` holds the catalogue query's figures (series as old as the period); a namespace with both old and
    young series (a project created during the period) adds the young ones' change to its figure.
    """
    values = dict(whole)
    since: dict[str, float] = {}
    for ns, part in young.items():
        old = values.get(ns)
        if old is None:
            values[ns] = part.value
            since[ns] = part.since
        else:
            values[ns] = old + part.value
    return values, since
