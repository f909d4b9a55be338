"""Whether placement may put a new registry on a cluster, from what the console last observed of it.

Automatic placement trusts only a cluster it can vouch for: its API server answered recently (within the same
``3 × SWEEP_INTERVAL_SECONDS`` that :meth:`Cluster.health` calls current) and its prerequisites were checked with
none absent and none unknown. Everything else is *unknown* (never contacted, no recent contact, prerequisites never
checked or not checkable) or *unusable* (the API server could not be used at last contact, a prerequisite is
absent). Only the cluster row is read: no query, no request to the cluster.

A cluster named explicitly (a support engineer overriding placement) is refused only when it is known to be
unusable, with what to do; an unknown one is accepted with a warning, since its first reconciliation finds out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from provisioning.models import Cluster
from provisioning.reconcile.prerequisite_step import BLOCKING_KINDS, absent

USABLE = "usable"
UNKNOWN = "unknown"
UNUSABLE = "unusable"
ERROR_SHOWN = 200
"""Characters of the last API error a reason repeats (the cluster page shows all of it)."""


@dataclass(frozen=True)
class Usability:
    """``state`` (usable, unknown or unusable) and why, as a fragment after ``<cluster>: `` ('' when usable)."""

    state: str
    reason: str = ""

    @property
    def usable(self) -> bool:
        return self.state == USABLE


def _when(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _item(item: dict[str, Any]) -> str:
    return str(item.get("message") or f"{item.get('kind')} {item.get('name')}")


def usability(cluster: Cluster, now: datetime | None = None) -> Usability:
    """What placement may make of ``cluster`` now (see the module's rule)."""
    now = now or timezone.now()
    if cluster.api_reachable is None or (cluster.last_contact_at is None and cluster.last_error_at is None):
        return Usability(UNKNOWN, "never contacted")
    if cluster.api_reachable is False:
        since = f" since {_when(cluster.last_error_at)}" if cluster.last_error_at else ""
        error = (cluster.last_error or "the API server did not answer").strip()
        if len(error) > ERROR_SHOWN:
            error = error[: ERROR_SHOWN - 1] + "…"
        return Usability(UNUSABLE, f"not reachable{since} ({error})")
    if cluster.last_contact_at is None or now - cluster.last_contact_at > stale_after():
        last = _when(cluster.last_contact_at) if cluster.last_contact_at else "never"
        return Usability(UNKNOWN, f"no contact since {last}, its state is not current")
    items = list(cluster.prerequisites or [])
    missing = absent(items)
    if missing:
        return Usability(UNUSABLE, "prerequisites missing: " + " ".join(_item(item) for item in missing))
    if cluster.prerequisites_checked_at is None or not items:
        return Usability(UNKNOWN, "prerequisites never checked")
    unchecked = [
        item for item in items if item.get("kind") in BLOCKING_KINDS and item.get("present") is not True
    ]
    if unchecked:
        return Usability(UNKNOWN, "prerequisites not checked: " + " ".join(_item(item) for item in unchecked))
    return Usability(USABLE)


def stale_after() -> timedelta:
    """How old the last contact may be and still count (``Cluster.health`` uses the same)."""
    return timedelta(seconds=3 * settings.SWEEP_INTERVAL_SECONDS)


def named_refusal(cluster: Cluster, now: datetime | None = None) -> str | None:
    """Why a registry may not be placed on ``cluster`` named explicitly: it is known to be unusable."""
    verdict = usability(cluster, now)
    if verdict.state != UNUSABLE:
        return None
    return (
        f"Cluster {cluster.name} is {verdict.reason}: a registry placed there would fail to provision. "
        f"{remedy(verdict)}; or choose another cluster, or give only a region to place it on a usable one."
    )


def remedy(verdict: Usability) -> str:
    """What makes an unusable cluster usable again, as a sentence without its full stop."""
    if verdict.reason.startswith("prerequisites"):
        return "Have them installed on the cluster (or point the cluster's settings at what it has), then try again"
    return (
        "Check the cluster's access settings and that its API server answers (the cluster page shows the "
        "last error), then try again"
    )


def named_warning(cluster: Cluster, now: datetime | None = None) -> str | None:
    """What to tell the person who named ``cluster`` when its state is unknown (the create goes ahead)."""
    verdict = usability(cluster, now)
    if verdict.state != UNKNOWN:
        return None
    return (
        f"Cluster {cluster.name} is not vouched for ({verdict.reason}): automatic placement would not choose it. "
        "Its first reconciliation shows whether it can run the registry."
    )
