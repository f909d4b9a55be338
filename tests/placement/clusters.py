"""Clusters as the console knows them after contact: what automatic placement may vouch for, or not."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from provisioning.models import Cluster
from provisioning.reconcile.prerequisite_step import BLOCKING_KINDS
from provisioning.services import cluster_checks
from tests import factories


def prerequisites(present: bool | None = True, **overrides: bool | None) -> list[dict[str, Any]]:
    """The blocking prerequisite items as a check records them, each ``present`` unless overridden by kind."""
    return [
        {
            "kind": kind,
            "name": kind.lower(),
            "present": overrides.get(kind, present),
            "message": f"{kind} {kind.lower()} is {'present' if overrides.get(kind, present) else 'absent'}.",
        }
        for kind in sorted(BLOCKING_KINDS)
    ]


def usable(**fields: Any) -> Cluster:
    """A cluster reached just now with every prerequisite present: automatic placement may choose it."""
    now = timezone.now()
    values: dict[str, Any] = {"prerequisites": prerequisites(), "prerequisites_checked_at": now}
    values.update(fields)
    return factories.observed_cluster(**values)


def unreachable(error: str = "connection refused", at: datetime | None = None, **fields: Any) -> Cluster:
    """A cluster whose API server could not be used at last contact."""
    at = at or timezone.now() - timedelta(minutes=3)
    return usable(api_reachable=False, last_error=error, last_error_at=at, **fields)


def contacted(cluster: Cluster, timeout: float = 5) -> Cluster:
    """Ask the cluster's API server now, as saving the cluster does, and record what it answered."""
    check = cluster_checks.check_access(cluster, timeout)
    assert check.observation is not None and not check.problems, check.problems
    seen = check.observation
    Cluster.objects.filter(pk=cluster.pk).update(
        api_reachable=True,
        api_version=seen.version[:32],
        api_latency_ms=seen.latency_ms,
        last_contact_at=seen.at,
        prerequisites=seen.prerequisites,
        prerequisites_checked_at=seen.at,
    )
    cluster.refresh_from_db()
    return cluster
