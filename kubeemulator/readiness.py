"""Simulated controllers: the status a workload reaches without any kubelet or cert-manager running.

Lazy and deterministic: after a create or a spec change (a new ``metadata.generation``) an object counts as
*progressing* until ``delay`` seconds have passed on the emulator's clock, then as *ready*; a workload that
matches a broken rule never becomes ready. The status for a phase is written into the stored object (with a
new ``resourceVersion``) the first time a read sees that phase, once per generation and phase, so a status
written by a client through ``/status`` stays until the phase changes. With ``delay == 0`` the first read
after a write already sees the ready status (the write's own response does not).
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
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
    shown: tuple[Any, ...] | None = None


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

    def refresh(self, kind: str, obj: dict[str, Any]) -> dict[str, Any] | None:
        """The status to store for ``obj`` now, or ``None`` when it already shows its current phase."""
        compute = _STATUS.get(kind)
        if compute is None:
            return None
        metadata = obj.get("metadata", {})
        track = self._tracks.setdefault(metadata.get("uid", ""), _Track(float("-inf")))
        rule = self.rule_for(kind, metadata.get("namespace", ""), metadata.get("name", ""))
        if rule is not None:
            phase = BROKEN
        elif self.clock() - track.since >= self.delay:
            phase = READY
        else:
            phase = PROGRESSING
        shown = (metadata.get("generation"), phase, rule)
        if track.shown == shown:
            return None
        track.shown = shown
        return compute(obj, phase, rule)


def _template_hash(obj: dict[str, Any]) -> str:
    template = json.dumps(obj.get("spec", {}).get("template", {}), sort_keys=True)
    return hashlib.sha256(template.encode()).hexdigest()[:10]


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


def _counts(**counts: int) -> dict[str, int]:
    """Replica counts as the apiserver serializes them: zeros are omitted."""
    return {k: v for k, v in counts.items() if v}


def _deployment(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    replicas = int(obj.get("spec", {}).get("replicas", 1))
    name = obj["metadata"]["name"]
    replica_set = f'ReplicaSet "{name}-{_template_hash(obj)}"'
    before = obj.get("status", {})
    now = now_rfc3339()
    if phase == READY:
        counts = _counts(
            replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas, availableReplicas=replicas
        )
        available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        progressing = ("True", "NewReplicaSetAvailable", f"{replica_set} has successfully progressed.")
    elif phase == PROGRESSING:
        ready = min(int(before.get("availableReplicas", 0)), replicas)
        counts = _counts(
            replicas=replicas,
            updatedReplicas=0 if before else replicas,
            readyReplicas=ready,
            availableReplicas=ready,
            unavailableReplicas=replicas - ready,
        )
        if ready or not replicas:
            available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            available = (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        progressing = ("True", "ReplicaSetUpdated", f"{replica_set} is progressing.")
    else:
        assert rule is not None
        why = f"{rule.reason}: {rule.message}"
        counts = _counts(replicas=replicas, updatedReplicas=replicas, unavailableReplicas=replicas)
        available = (
            "False",
            "MinimumReplicasUnavailable",
            f"Deployment does not have minimum availability. {why}",
        )
        progressing = ("False", "ProgressDeadlineExceeded", f"{replica_set} has timed out progressing. {why}")
    conditions = _conditions(
        obj,
        *(
            {"type": kind, "status": s, "reason": r, "message": m, "lastUpdateTime": now}
            for kind, (s, r, m) in (("Available", available), ("Progressing", progressing))
        ),
    )
    return {"observedGeneration": obj["metadata"].get("generation", 1), **counts, "conditions": conditions}


def _statefulset(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    replicas = int(obj.get("spec", {}).get("replicas", 1))
    revision = f"{obj['metadata']['name']}-{_template_hash(obj)}"
    before = obj.get("status", {})
    status: dict[str, Any] = {
        "observedGeneration": obj["metadata"].get("generation", 1),
        "replicas": replicas,
    }
    if phase == READY:
        status |= _counts(
            readyReplicas=replicas,
            currentReplicas=replicas,
            updatedReplicas=replicas,
            availableReplicas=replicas,
        )
        status |= {"currentRevision": revision, "updateRevision": revision}
    elif phase == PROGRESSING:
        ready = min(int(before.get("readyReplicas", 0)), replicas)
        status |= _counts(readyReplicas=ready, currentReplicas=ready, availableReplicas=ready)
        status |= {"currentRevision": before.get("currentRevision", revision), "updateRevision": revision}
    else:
        status |= {"currentRevision": before.get("currentRevision", revision), "updateRevision": revision}
    return status | {"collisionCount": 0}


def _job(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    spec = obj.get("spec", {})
    now = now_rfc3339()
    status: dict[str, Any] = {"startTime": obj.get("status", {}).get("startTime", now)}
    if phase == READY:
        status |= {"succeeded": int(spec.get("completions", 1)), "completionTime": now, "ready": 0}
        status["conditions"] = _conditions(
            obj,
            {
                "type": "SuccessCriteriaMet",
                "status": "True",
                "reason": "CompletionsReached",
                "message": "Reached expected number of succeeded pods",
            },
            {
                "type": "Complete",
                "status": "True",
                "reason": "CompletionsReached",
                "message": "Reached expected number of succeeded pods",
            },
        )
    elif phase == PROGRESSING:
        status |= {"active": 1, "ready": 0}
    else:
        assert rule is not None
        message = f"Job has reached the specified backoff limit. {rule.reason}: {rule.message}"
        status |= {"failed": int(spec.get("backoffLimit", 6)) + 1, "ready": 0}
        status["conditions"] = _conditions(
            obj,
            {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": message},
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": message},
        )
    for condition in status.get("conditions", []):
        condition["lastProbeTime"] = now
    return status


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


def _claim(obj: dict[str, Any], phase: str, rule: BrokenRule | None) -> dict[str, Any]:
    if phase != READY:
        return {"phase": "Pending"}
    spec = obj.get("spec", {})
    status: dict[str, Any] = {"phase": "Bound", "accessModes": spec.get("accessModes", ["ReadWriteOnce"])}
    storage = spec.get("resources", {}).get("requests", {}).get("storage")
    if storage:
        status["capacity"] = {"storage": storage}
    return status


_STATUS: dict[str, Callable[[dict[str, Any], str, BrokenRule | None], dict[str, Any]]] = {
    "Deployment": _deployment,
    "StatefulSet": _statefulset,
    "Job": _job,
    "Certificate": _certificate,
    "PersistentVolumeClaim": _claim,
}
SIMULATED_KINDS = frozenset(_STATUS)
