"""How healthy a registry is, from its phase (the console's view) and its metrics (Prometheus's view).

One rule serves the fleet's health strip, its table and the API: :func:`assess`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from provisioning.choices import Phase

ERROR_RATIO_DEGRADED = 0.05  # 5xx share above which a registry counts as degraded
NEAR_QUOTA = 0.80  # storage share of the plan's limit from which a tenant is near its quota
SERVING_COMPONENTS = frozenset({"core", "registry", "database"})  # without these Harbor serves nothing


class Health(StrEnum):
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    DOWN = "Down"
    PROVISIONING = "Provisioning"
    UPGRADING = "Upgrading"
    OTHER = "Other"  # suspended or being deleted: not expected to serve

    @property
    def rank(self) -> int:
        """Worst first, for sorting."""
        return _RANK[self]

    @property
    def css(self) -> str:
        return self.value.lower()


STRIP = (Health.HEALTHY, Health.DEGRADED, Health.DOWN, Health.PROVISIONING, Health.UPGRADING)
_RANK = {
    Health.DOWN: 0,
    Health.DEGRADED: 1,
    Health.UPGRADING: 2,
    Health.PROVISIONING: 3,
    Health.HEALTHY: 4,
    Health.OTHER: 5,
}


@dataclass(frozen=True)
class Signals:
    """What Prometheus says of one registry; None when it says nothing."""

    health: float | None = None
    components_down: tuple[str, ...] = ()
    pods_not_ready: float | None = None
    error_ratio: float | None = None


@dataclass(frozen=True)
class Assessment:
    health: Health
    reasons: list[str] = field(default_factory=list)


def assess(phase: str, signals: Signals, problems: list[dict[str, str]] | None = None) -> Assessment:
    """The registry's health and the reasons for it, worst first."""
    if phase in (Phase.PENDING, Phase.PROVISIONING):
        return Assessment(Health.PROVISIONING)
    if phase == Phase.UPGRADING:
        return Assessment(Health.UPGRADING)
    if phase not in (Phase.READY, Phase.DEGRADED, Phase.FAILED):
        return Assessment(Health.OTHER)
    condition_reasons = [
        f"{c.get('type')}: {c.get('message') or c.get('reason') or c.get('status')}" for c in problems or []
    ]
    serving_down = sorted(set(signals.components_down) & SERVING_COMPONENTS)
    if phase == Phase.FAILED or serving_down:
        reasons = []
        if serving_down:
            reasons.append(f"Harbor reports {', '.join(serving_down)} down.")
        if phase == Phase.FAILED:
            reasons.append("Reconciliation failed and waits for a person.")
        return Assessment(Health.DOWN, reasons + condition_reasons)
    reasons = []
    other_down = sorted(set(signals.components_down) - SERVING_COMPONENTS)
    if other_down:
        reasons.append(f"Harbor reports {', '.join(other_down)} down.")
    if signals.health is not None and signals.health < 1:
        reasons.append("Harbor reports itself unhealthy.")
    if signals.pods_not_ready:
        reasons.append(f"{int(signals.pods_not_ready)} pod(s) not ready.")
    if signals.error_ratio is not None and signals.error_ratio >= ERROR_RATIO_DEGRADED:
        reasons.append(f"{signals.error_ratio:.1%} of requests fail with 5xx.")
    if phase == Phase.DEGRADED:
        reasons.append("The console found the registry degraded.")
    if reasons:
        return Assessment(Health.DEGRADED, reasons + condition_reasons)
    return Assessment(Health.HEALTHY)
