"""What a run learned of its cluster's API server, recorded on the ``Cluster`` row cheaply.

At most one conditional UPDATE per run, and none while the row already says the same within
``CONTACT_REFRESH`` (the decision is taken on the row the run loaded, the UPDATE's own condition settles races
between workers): a fleet sweep of a thousand registries on one cluster writes its row a few times, not a
thousand. ``Cluster.health()`` reads these fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from provisioning.choices import ErrorClass
from provisioning.models import Cluster
from provisioning.reconcile.errors import Failure

CONTACT_REFRESH = timedelta(seconds=30)
"""How stale ``last_contact_at`` (or an unchanged ``last_error_at``) may get before a run writes it again."""
CLUSTER_ERRORS = frozenset(
    {ErrorClass.CLUSTER_UNREACHABLE, ErrorClass.API_UNAVAILABLE, ErrorClass.API_FORBIDDEN}
)
"""Failures that say the API server cannot be used (not that one object was refused)."""


@dataclass(frozen=True)
class Contact:
    """One run's evidence about the API server: it answered (how fast, was a LIST read) or it could not be used."""

    reachable: bool
    latency_ms: float | None = None
    listed: bool = False
    error: str = ""


def contact_of(failure: Failure | None, latency_ms: float | None, listed: bool) -> Contact | None:
    """The run's evidence: None when it learned nothing of the API server (it never got to ask).

    Once the run's LISTs were answered, a refusal of one write (a 403 in a namespace being deleted, a 5xx on one
    apply) says something of that object, not of the API server; only silence (no answer in time) still does.
    """
    silent = failure is not None and failure.error_class == ErrorClass.CLUSTER_UNREACHABLE
    if failure is not None and failure.error_class in CLUSTER_ERRORS and (silent or not listed):
        return Contact(False, error=failure.message)
    if latency_ms is None:
        return None
    return Contact(True, latency_ms=latency_ms, listed=listed)


def record_contact(cluster: Cluster, contact: Contact | None, now: datetime) -> bool:
    """Write ``contact`` onto ``cluster`` unless the loaded row already says it recently; True when written."""
    if contact is None:
        return False
    stale = now - CONTACT_REFRESH
    rows = Cluster.objects.filter(pk=cluster.pk)
    if contact.reachable:
        if cluster.api_reachable is True and cluster.last_contact_at and cluster.last_contact_at > stale:
            return False
        values: dict[str, object] = {
            "api_reachable": True,
            "api_latency_ms": contact.latency_ms,
            "last_contact_at": now,
        }
        if contact.listed:
            values["last_list_at"] = now
        changed = rows.filter(
            Q(api_reachable__isnull=True)
            | Q(api_reachable=False)
            | Q(last_contact_at__isnull=True)
            | Q(last_contact_at__lte=stale)
        )
    else:
        error = contact.error[:2000]
        if (
            cluster.api_reachable is False
            and cluster.last_error == error
            and cluster.last_error_at
            and cluster.last_error_at > stale
        ):
            return False
        values = {"api_reachable": False, "last_error": error, "last_error_at": now}
        changed = rows.filter(
            Q(api_reachable__isnull=True)
            | Q(api_reachable=True)
            | ~Q(last_error=error)
            | Q(last_error_at__isnull=True)
            | Q(last_error_at__lte=stale)
        )
    written = changed.update(**values) == 1
    if written:
        for name, value in values.items():
            setattr(cluster, name, value)
    return written
