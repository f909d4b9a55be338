"""Reading ResourceQuota refusals: pods (or claims) a workload controller could not create, and whose move it is.

Quota admission refuses the *pods*, not the apply: the Deployment's ReplicaSet records the refusal and the
Deployment copies it as condition ``ReplicaFailure=True``, reason ``FailedCreate``, message the API server's
error; a StatefulSet has no such condition, its controller emits a Warning Event ``FailedCreate``
(``create Pod <pod> in StatefulSet <set> failed error: <error>``). The error of a quota refusal reads
``pods "<pod>" is forbidden: exceeded quota: <quota>, requested: <r>=<q>,..., used: ..., limited: ...``, or
``... is forbidden: failed quota: <quota>: must specify <resource>...`` for a pod that states no limit the quota
counts. Pure functions over object dicts: no Django, no I/O, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from provisioning.choices import WhoseMove

EVENT_MAX_AGE = timedelta(minutes=15)
"""A FailedCreate Event older than this is history: a failing controller repeats its Event far more often."""

_EXCEEDED = re.compile(
    r"exceeded quota: (?P<quota>[^,]+), requested: (?P<requested>.*?), used: (?P<used>.*?), limited: (?P<limited>.*)$"
)
_MUST_SPECIFY = re.compile(r"failed quota: (?P<quota>[^:]+): must specify (?P<missing>.+)$")
_RESOURCE = re.compile(r"(?:requests|limits)\.[a-z0-9.-]+|cpu|memory")


@dataclass(frozen=True)
class QuotaRefusal:
    """One quota refusal as the API server worded it."""

    quota: str
    message: str
    requested: Mapping[str, str] = field(default_factory=dict)
    used: Mapping[str, str] = field(default_factory=dict)
    limited: Mapping[str, str] = field(default_factory=dict)
    unstated: tuple[str, ...] = ()
    """Resources a pod must state for this quota to count it (``must specify``), when that was the refusal."""
    owned: bool = False
    """The quota is one the console renders into the namespace."""

    @property
    def whose_move(self) -> str:
        """The console's own quota too small (or a pod it renders stating no limit): the provider's move. A quota
        someone set on the tenant's namespace: the customer's (lower the registry's settings or take a larger plan).
        """
        return WhoseMove.PROVIDER if self.owned or self.unstated else WhoseMove.CUSTOMER

    def describe(self) -> str:
        """``quota harbor-quota exceeded on limits.cpu (requested 500m, used 8, limited to 8)``."""
        if self.unstated:
            return f"quota {self.quota} refuses pods that do not state {', '.join(self.unstated)}"
        parts = [
            f"{name} (requested {self.requested.get(name, '?')}, used {self.used.get(name, '?')}, "
            f"limited to {limit})"
            for name, limit in self.limited.items()
        ]
        return f"quota {self.quota} exceeded on {'; '.join(parts) or 'a resource it counts'}"

    def advice(self) -> str:
        if self.whose_move == WhoseMove.PROVIDER:
            return (
                f"the console's quota {self.quota} is too small for the stack it renders: the plan's quota must "
                "be raised (the provider's move)"
            )
        return (
            f"quota {self.quota} on the tenant's namespace is not the console's: lower the registry's settings "
            "or move it to a larger plan (the customer's move)"
        )


def parse_refusal(message: str, owned_quotas: Collection[str] = ()) -> QuotaRefusal | None:
    """The quota refusal ``message`` reports (a ReplicaFailure or Event message, an API error), or None."""
    text = message.strip()
    exceeded = _EXCEEDED.search(text)
    if exceeded is not None:
        quota = exceeded["quota"].strip()
        return QuotaRefusal(
            quota=quota,
            message=text,
            requested=_amounts(exceeded["requested"]),
            used=_amounts(exceeded["used"]),
            limited=_amounts(exceeded["limited"]),
            owned=quota in owned_quotas,
        )
    unstated = _MUST_SPECIFY.search(text)
    if unstated is not None:
        quota = unstated["quota"].strip()
        return QuotaRefusal(
            quota=quota, message=text, unstated=_resources(unstated["missing"]), owned=quota in owned_quotas
        )
    return None


def _resources(text: str) -> tuple[str, ...]:
    """``limits.cpu for: core,portal; limits.memory for: core`` (or ``limits.cpu,limits.memory``) → the resources."""
    found = []
    for part in re.split(r"[;,]", text):
        token = part.strip().split(" for:")[0].strip()
        if _RESOURCE.fullmatch(token):
            found.append(token)
    return tuple(dict.fromkeys(found))


def _amounts(text: str) -> dict[str, str]:
    """``limits.cpu=1,limits.memory=2Gi`` → ``{"limits.cpu": "1", "limits.memory": "2Gi"}``."""
    found = {}
    for part in text.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            found[name] = value
    return found


def replica_failure(deployment: Mapping[str, Any]) -> str:
    """The message of a Deployment's ``ReplicaFailure=True`` condition (pods it cannot create), or ``""``."""
    for condition in (deployment.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "ReplicaFailure" and condition.get("status") == "True":
            return str(condition.get("message") or condition.get("reason") or "FailedCreate")
    return ""


def failed_create_event(
    events: Iterable[Mapping[str, Any]], workload: Mapping[str, Any], now: datetime
) -> str:
    """The message of the latest recent Warning ``FailedCreate`` Event of ``workload``, or ``""``.

    Matches the Event's involved object by kind, name and (when both carry it) uid, so an Event of an earlier
    object of the same name does not count; Events older than ``EVENT_MAX_AGE`` are history.
    """
    metadata = workload.get("metadata") or {}
    kind, name, uid = workload.get("kind"), metadata.get("name"), metadata.get("uid")
    latest: tuple[datetime, str] | None = None
    for event in events:
        regarding = event.get("involvedObject") or event.get("regarding") or {}
        if (event.get("type"), event.get("reason")) != ("Warning", "FailedCreate"):
            continue
        if regarding.get("kind") != kind or regarding.get("name") != name:
            continue
        if uid and regarding.get("uid") and regarding.get("uid") != uid:
            continue
        seen = _event_time(event)
        if seen is None or now - seen > EVENT_MAX_AGE:
            continue
        if latest is None or seen > latest[0]:
            latest = (seen, str(event.get("message") or event.get("note") or ""))
    return latest[1] if latest else ""


def _event_time(event: Mapping[str, Any]) -> datetime | None:
    """When the Event last happened: ``series.lastObservedTime``, ``lastTimestamp`` or ``eventTime``."""
    series = event.get("series") or {}
    for value in (
        series.get("lastObservedTime"),
        event.get("lastTimestamp"),
        event.get("eventTime"),
        (event.get("metadata") or {}).get("creationTimestamp"),
    ):
        if isinstance(value, str) and value:
            parsed = parse_datetime(value)
            if parsed is not None:
                return parsed
    return None
