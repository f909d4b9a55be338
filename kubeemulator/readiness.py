"""The simulated passage of time for what has no real controller here: readiness delay, broken rules, certificates.

After a create or a spec change (a new ``metadata.generation``) an object's clock restarts (``touch``); what it runs
becomes ready ``delay`` seconds later on the emulator's clock: a workload's pods (see ``controllers``), a claim's
binding, a certificate's issuance. A workload, claim or certificate matching a ``BrokenRule`` never becomes ready.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .values import now_rfc3339

PROGRESSING, READY, BROKEN = "Progressing", "Ready", "Broken"


@dataclass(frozen=True)
class BrokenRule:
    """Workloads whose namespace and name match these shell patterns never become ready."""

    namespace: str
    name: str
    reason: str = "ImagePullBackOff"
    message: str = "Back-off pulling image"
    kind: str | None = None

    def matches(self, kind: str, namespace: str, name: str) -> bool:
        return (
            (self.kind is None or self.kind.lower() == kind.lower())
            and fnmatch.fnmatchcase(namespace, self.namespace)
            and fnmatch.fnmatchcase(name, self.name)
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Track:
    since: float


class Readiness:
    """Readiness settings, broken rules, and per-object progress (keyed by uid)."""

    def __init__(self, delay: float = 0.0, clock: Callable[[], float] | None = None):
        self.delay = delay
        self.clock = clock or time.monotonic
        self.broken: list[BrokenRule] = []
        self._tracks: dict[str, _Track] = {}

    def reset(self) -> None:
        self._tracks.clear()

    def touch(self, uid: str) -> None:
        """Start the clock for an object whose spec was just written (or that was just healed)."""
        self._tracks[uid] = _Track(self.clock())

    def forget(self, uid: str) -> None:
        self._tracks.pop(uid, None)

    def break_workload(self, rule: BrokenRule) -> None:
        self.broken = [
            r for r in self.broken if (r.namespace, r.name, r.kind) != (rule.namespace, rule.name, rule.kind)
        ]
        self.broken.append(rule)

    def heal(self, namespace: str, name: str, kind: str | None = None) -> list[BrokenRule]:
        """Drop the rules given with these exact patterns; returns them."""
        healed = [
            r for r in self.broken if (r.namespace, r.name) == (namespace, name) and kind in (None, r.kind)
        ]
        self.broken = [r for r in self.broken if r not in healed]
        return healed

    def rule_for(self, kind: str, namespace: str, name: str) -> BrokenRule | None:
        return next((r for r in self.broken if r.matches(kind, namespace, name)), None)

    def ready_at(self, uid: str) -> float:
        """When what ``uid`` runs is ready (its last spec change plus the delay)."""
        track = self._tracks.get(uid)
        return (track.since if track else float("-inf")) + self.delay

    def phase(self, kind: str, obj: dict[str, Any]) -> tuple[str, BrokenRule | None]:
        """``Progressing``, ``Ready`` or ``Broken`` now, and the rule that breaks it."""
        metadata = obj.get("metadata", {})
        rule = self.rule_for(kind, metadata.get("namespace", ""), metadata.get("name", ""))
        if rule is not None:
            return BROKEN, rule
        if self.clock() >= self.ready_at(metadata.get("uid", "")):
            return READY, None
        return PROGRESSING, None


def _conditions(obj: dict[str, Any], *wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """Conditions stamped with now, keeping ``lastTransitionTime`` when a condition's status is unchanged."""
    now = now_rfc3339()
    previous = {c.get("type"): c for c in obj.get("status", {}).get("conditions", []) or []}
    result = []
    for condition in wanted:
        before = previous.get(condition["type"], {})
        changed = before.get("status") != condition["status"]
        result.append(
            {**condition, "lastTransitionTime": now if changed else before.get("lastTransitionTime", now)}
        )
    return result


def _certificate(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    generation = obj["metadata"].get("generation", 1)
    before = obj.get("status", {})
    if phase == READY:
        issued = datetime.now(UTC).replace(microsecond=0)
        expires = issued + timedelta(days=90)
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "Ready",
            "message": "Certificate is up to date and has not expired",
        }
        return {
            "conditions": _conditions(obj, ready | {"observedGeneration": generation}),
            "notBefore": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "notAfter": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "renewalTime": (expires - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "revision": int(before.get("revision", 0)) + 1,
        }
    if phase == PROGRESSING:
        conditions = _conditions(
            obj,
            {
                "type": "Ready",
                "status": "False",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "observedGeneration": generation,
            },
            {
                "type": "Issuing",
                "status": "True",
                "reason": "DoesNotExist",
                "message": "Issuing certificate as Secret does not exist",
                "observedGeneration": generation,
            },
        )
        return {k: v for k, v in before.items() if k != "conditions"} | {"conditions": conditions}
    assert rule is not None
    failed = {
        "type": "Ready",
        "status": "False",
        "reason": rule.reason,
        "message": rule.message,
        "observedGeneration": generation,
    }
    return {
        "conditions": _conditions(obj, failed),
        "lastFailureTime": now_rfc3339(),
        "failedIssuanceAttempts": int(before.get("failedIssuanceAttempts", 0)) + 1,
    }


def certificate_status(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    """The status cert-manager reports for a Certificate in ``phase``."""
    return _certificate(obj, phase, rule)
