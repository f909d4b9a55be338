"""Conditions a person can read, and the phase derived from them: pure functions of one run's observation.

A condition is ``{type, status, reason, message, whose_move, since}``: ``reason`` is CamelCase, ``message`` a
sentence naming what is wrong, ``since`` the last time the status changed (kept while it does not), and
``whose_move`` says who has to act: the customer, the provider, or nobody because it is transient. A condition
known from evidence also carries ``observed_at`` (the run that saw it); one that is ``Unknown`` carries
``last_observed`` (status, reason, message and time of the last evidence) and ends its message with it, so a
cluster that cannot be read never erases what was last seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_datetime

from provisioning.choices import ConditionStatus, ConditionType, DesiredState, ErrorClass, Phase, WhoseMove
from provisioning.reconcile.errors import Failure
from provisioning.reconcile.readiness import CertificateState, WorkloadState

TRUE, FALSE, UNKNOWN = ConditionStatus.TRUE, ConditionStatus.FALSE, ConditionStatus.UNKNOWN
QUOTA_EXCEEDED = "QuotaExceeded"
NOT_READ_ON_PURPOSE = frozenset({ErrorClass.PREREQUISITE_MISSING, ErrorClass.NAMESPACE_TAKEN})
"""Failures that stop a run before it reads the stack although the cluster answers."""
_MOVE_ORDER = (WhoseMove.PROVIDER, WhoseMove.CUSTOMER, WhoseMove.TRANSIENT)


@dataclass(frozen=True)
class DependencyView:
    """What the external services said of the database, cache and storage."""

    ready: bool
    message: str
    whose_move: str = WhoseMove.NONE
    error_class: str = ""


@dataclass(frozen=True)
class Observation:
    """Everything one run learned, in plain values."""

    desired_state: str
    desired_version: str
    deployed_version: str
    dependencies: DependencyView | None = None
    """None when the run stopped before checking them."""
    held: bool = False
    """The rollout was held because a dependency is failing."""
    failure: Failure | None = None
    objects: int = 0
    workloads: Sequence[WorkloadState] = ()
    certificate: CertificateState | None = None
    managed_cache: bool = False
    remaining: int = 0
    """Owned objects still on the cluster (what a deletion waits for)."""
    cluster_read: bool = True
    """The run read the stack's objects from the cluster; when False, ``failure`` says why it could not."""

    @property
    def unread_cause(self) -> Failure:
        """Why the cluster was not read, as a failure (a generic one when the run recorded none)."""
        return self.failure or Failure(
            ErrorClass.CLUSTER_UNREACHABLE,
            True,
            WhoseMove.TRANSIENT,
            "ClusterNotRead",
            "The cluster was not read.",
        )

    @property
    def stopped_before_reading(self) -> bool:
        """The run chose not to read the stack (a prerequisite is missing), rather than failing to."""
        return self.unread_cause.error_class in NOT_READ_ON_PURPOSE

    @property
    def unread_phrase(self) -> str:
        if self.stopped_before_reading:
            return "the stack was not read"
        return "the cluster could not be read"

    def not_known(self, what: str) -> str:
        """``<what> is not known: the cluster could not be read (<cause>).``"""
        cause = self.unread_cause.message.rstrip(".")
        return _sentence(f"{what} is not known: {self.unread_phrase} ({cause})")


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str
    whose_move: str = WhoseMove.NONE


@dataclass(frozen=True)
class Derived:
    conditions: list[dict[str, Any]]
    phase: str
    rolled_out: bool
    """Every workload is available at the desired version with nothing left to roll out."""
    problems: list[Condition] = field(default_factory=list)


def worst_move(moves: Iterable[str]) -> str:
    present = set(moves)
    return next((move for move in _MOVE_ORDER if move in present), WhoseMove.NONE)


def _join(parts: Sequence[str]) -> str:
    return "; ".join(parts)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _names(workloads: Iterable[WorkloadState]) -> str:
    return ", ".join(w.component for w in workloads)


def rolled_out(obs: Observation) -> bool:
    workloads = list(obs.workloads)
    return bool(workloads) and all(
        w.present and w.rolled_out and w.available and w.version in ("", obs.desired_version)
        for w in workloads
    )


def dependencies_condition(obs: Observation) -> Condition:
    """Database, cache and storage from the external services; a managed Redis and TLS from the cluster."""
    problems: list[tuple[str, str]] = []
    move: str
    if obs.dependencies is not None and not obs.dependencies.ready:
        problems.append((obs.dependencies.message, obs.dependencies.whose_move or WhoseMove.PROVIDER))
    if obs.managed_cache and obs.desired_state == DesiredState.RUNNING:
        redis = next((w for w in obs.workloads if w.component == "redis"), None)
        if redis is not None and not redis.available:
            move = WhoseMove.PROVIDER if redis.stalled else WhoseMove.TRANSIENT
            problems.append((f"cache: the managed Redis is not available ({redis.describe()})", move))
    if obs.failure is not None and obs.failure.error_class == ErrorClass.PREREQUISITE_MISSING:
        problems.append((obs.failure.message.rstrip("."), WhoseMove.PROVIDER))
    certificate = obs.certificate
    unseen = [] if obs.cluster_read else _unseen_dependencies(obs)
    if certificate is not None and not certificate.ready:
        if not certificate.present:
            problems.append(("TLS: the certificate is not requested yet", WhoseMove.TRANSIENT))
        elif certificate.issuing or certificate.reason in ("", "DoesNotExist", "Pending", "InProgress"):
            problems.append(("TLS: the certificate is being issued", WhoseMove.TRANSIENT))
        else:
            problems.append(
                (
                    f"TLS: the certificate cannot be issued ({certificate.reason}: {certificate.message}); "
                    "check that the hostname's DNS points at the ingress",
                    WhoseMove.CUSTOMER,
                )
            )
    if problems:
        move = worst_move(m for _, m in problems)
        reason = "DependenciesFailing" if move != WhoseMove.TRANSIENT else "DependenciesPending"
        if unseen:
            problems.append((f"{' and '.join(unseen)} not seen: {obs.unread_phrase}", move))
        return Condition(
            ConditionType.DEPENDENCIES_READY, FALSE, reason, _sentence(_join([p for p, _ in problems])), move
        )
    if unseen and obs.dependencies is not None:
        cause = obs.unread_cause
        return Condition(
            ConditionType.DEPENDENCIES_READY,
            UNKNOWN,
            cause.reason,
            _sentence(
                f"The database, cache and object storage are ready, but {' and '.join(unseen)} could not be seen: "
                f"{obs.unread_phrase} ({cause.message.rstrip('.')})"
            ),
            cause.whose_move,
        )
    if obs.dependencies is None:
        return Condition(
            ConditionType.DEPENDENCIES_READY,
            UNKNOWN,
            "NotChecked",
            "The dependencies were not checked in the last run.",
            WhoseMove.TRANSIENT,
        )
    return Condition(
        ConditionType.DEPENDENCIES_READY,
        TRUE,
        "AllReady",
        "The database, cache, object storage and TLS certificate are ready.",
    )


def _unseen_dependencies(obs: Observation) -> list[str]:
    """What of the dependencies lives on the cluster, so was not seen when it could not be read."""
    unseen = ["the TLS certificate"]
    if obs.managed_cache and obs.desired_state == DesiredState.RUNNING:
        unseen.insert(0, "the managed Redis")
    return unseen


def _unknown(obs: Observation, type_: str, what: str) -> Condition:
    cause = obs.unread_cause
    return Condition(type_, UNKNOWN, cause.reason, obs.not_known(what), cause.whose_move)


def resources_condition(obs: Observation) -> Condition:
    if not obs.cluster_read and obs.stopped_before_reading:
        failure = obs.unread_cause
        return Condition(
            ConditionType.RESOURCES_APPLIED, FALSE, failure.reason, failure.message, failure.whose_move
        )
    if not obs.cluster_read:
        return _unknown(obs, ConditionType.RESOURCES_APPLIED, "Whether the stack's objects are applied")
    if obs.failure is not None and not obs.held:
        failure = obs.failure
        return Condition(
            ConditionType.RESOURCES_APPLIED, FALSE, failure.reason, failure.message, failure.whose_move
        )
    if obs.held:
        move = obs.dependencies.whose_move if obs.dependencies else WhoseMove.TRANSIENT
        return Condition(
            ConditionType.RESOURCES_APPLIED,
            FALSE,
            "HeldForDependencies",
            "The rollout is held until the dependencies are ready; objects already on the cluster are left "
            "as they are.",
            move or WhoseMove.PROVIDER,
        )
    if obs.desired_state == DesiredState.SUSPENDED:
        message = f"All {obs.objects} objects of the stack are applied, every workload scaled to zero."
    else:
        message = f"All {obs.objects} objects of the stack are applied."
    return Condition(ConditionType.RESOURCES_APPLIED, TRUE, "Applied", message)


def available_condition(obs: Observation) -> Condition:
    if obs.desired_state == DesiredState.SUSPENDED:
        return Condition(
            ConditionType.AVAILABLE,
            FALSE,
            "Suspended",
            "The registry is suspended: every workload is scaled to zero.",
        )
    if not obs.cluster_read:
        return _unknown(obs, ConditionType.AVAILABLE, "Whether the components are available")
    workloads = list(obs.workloads)
    if not any(w.present for w in workloads):
        return Condition(
            ConditionType.AVAILABLE,
            FALSE,
            "NotDeployed",
            "No workload of the stack exists yet.",
            WhoseMove.TRANSIENT,
        )
    down = [w for w in workloads if not (w.present and w.available)]
    if not down:
        return Condition(
            ConditionType.AVAILABLE,
            TRUE,
            "AllComponentsAvailable",
            _sentence(f"Available: {_names(workloads)}"),
        )
    if any(w.quota is not None for w in down):
        return _quota_condition(ConditionType.AVAILABLE, down)
    stalled = any(w.stalled for w in down)
    return Condition(
        ConditionType.AVAILABLE,
        FALSE,
        "ComponentsStalled" if stalled else "ComponentsStarting",
        _sentence(_join([w.describe() for w in down])),
        WhoseMove.PROVIDER if stalled else WhoseMove.TRANSIENT,
    )


def _quota_message(refused: Sequence[WorkloadState], others: Sequence[WorkloadState]) -> str:
    """``Quota exceeded: core cannot create its pods (...); <whose move>; portal has 1 of 2 replicas ready.``"""
    parts = []
    for workload in refused:
        assert workload.quota is not None
        parts.append(
            f"{workload.component} cannot create its pods ({workload.quota.describe()}): {workload.quota.advice()}"
        )
    parts += [w.describe() for w in others]
    return _sentence("Quota exceeded: " + _join(parts))


def _quota_condition(type_: str, workloads: Sequence[WorkloadState], lead: str = "") -> Condition:
    """``type_`` False for pods a quota refuses (the other ``workloads`` named after them)."""
    refused = [w for w in workloads if w.quota is not None]
    message = _quota_message(refused, [w for w in workloads if w.quota is None])
    if lead:
        message = _sentence(lead + message.removeprefix("Quota exceeded: "))
    return Condition(type_, FALSE, QUOTA_EXCEEDED, message, _quota_move(workloads))


def _quota_move(workloads: Iterable[WorkloadState]) -> str:
    return worst_move(
        w.quota.whose_move if w.quota is not None else WhoseMove.PROVIDER for w in workloads if w.stalled
    )


def quota_failure(obs: Observation) -> Failure | None:
    """A run that finds pods refused by a quota failed with ``QUOTA_EXCEEDED`` (a person must act), or None."""
    if not obs.cluster_read or obs.desired_state != DesiredState.RUNNING:
        return None
    refused = [w for w in obs.workloads if w.quota is not None]
    if not refused:
        return None
    return Failure(
        ErrorClass.QUOTA_EXCEEDED,
        False,
        _quota_move(refused),
        QUOTA_EXCEEDED,
        _quota_message(refused, []),
    )


def progressing_condition(obs: Observation) -> Condition:
    if not obs.cluster_read:
        return _unknown(obs, ConditionType.PROGRESSING, "Whether a rollout is under way")
    workloads = list(obs.workloads)
    stalled = [w for w in workloads if w.stalled]
    if any(w.quota is not None for w in stalled):
        return _quota_condition(ConditionType.PROGRESSING, stalled, "The rollout is stuck: ")
    if stalled:
        return Condition(
            ConditionType.PROGRESSING,
            FALSE,
            "RolloutStalled",
            _sentence("The rollout is stuck: " + _join([w.describe() for w in stalled])),
            WhoseMove.PROVIDER,
        )
    moving = [w for w in workloads if w.progressing or not w.present]
    if moving:
        upgrading = obs.deployed_version and obs.deployed_version != obs.desired_version
        what = f"Upgrading to Harbor {obs.desired_version}" if upgrading else "Rolling out"
        return Condition(
            ConditionType.PROGRESSING,
            TRUE,
            "UpgradeInProgress" if upgrading else "RolloutInProgress",
            _sentence(f"{what}: {_join([w.describe() for w in moving])}"),
            WhoseMove.TRANSIENT,
        )
    return Condition(ConditionType.PROGRESSING, FALSE, "RolloutComplete", "No rollout is under way.")


def degraded_condition(obs: Observation, others: Sequence[Condition]) -> Condition:
    """Degraded: a deployed registry is not fully serving or cannot take a change, or a workload cannot start.

    A certificate renewal on a registry that still serves is not degraded, nor are pods restarting for an upgrade.
    """
    by_type = {c.type: c for c in others}
    progressing = by_type[ConditionType.PROGRESSING]
    if not obs.cluster_read:
        if not (obs.deployed_version and obs.desired_state == DesiredState.RUNNING):
            return Condition(ConditionType.DEGRADED, FALSE, "NotDeployed", "Nothing is deployed yet.")
        cause = obs.unread_cause
        return Condition(
            ConditionType.DEGRADED,
            TRUE,
            cause.reason,
            _sentence(
                (
                    "The console does not apply the stack, nor see how the registry serves"
                    if obs.stopped_before_reading
                    else "The console cannot read the cluster, so it can neither see how the registry serves nor "
                    "apply a change"
                )
                + f" ({cause.message.rstrip('.')})"
            ),
            cause.whose_move,
        )
    wrong: list[Condition] = []
    if progressing.reason in ("RolloutStalled", QUOTA_EXCEEDED):
        wrong.append(progressing)
    if obs.deployed_version and obs.desired_state == DesiredState.RUNNING:
        dependencies = by_type[ConditionType.DEPENDENCIES_READY]
        if dependencies.status == FALSE and dependencies.whose_move != WhoseMove.TRANSIENT:
            wrong.append(dependencies)
        applied, available = by_type[ConditionType.RESOURCES_APPLIED], by_type[ConditionType.AVAILABLE]
        if applied.status == FALSE:
            wrong.append(applied)
        upgrading = obs.deployed_version != obs.desired_version
        if available.status == FALSE and not (upgrading and available.whose_move == WhoseMove.TRANSIENT):
            wrong.append(available)
    if not wrong:
        return Condition(ConditionType.DEGRADED, FALSE, "AsExpected", "Nothing is degraded.")
    return Condition(
        ConditionType.DEGRADED,
        TRUE,
        wrong[0].reason,
        _sentence(_join([c.message.rstrip(".") for c in wrong])),
        worst_move(c.whose_move for c in wrong),
    )


def deletion_conditions(obs: Observation) -> list[Condition]:
    if obs.failure is not None:
        applied = Condition(
            ConditionType.RESOURCES_APPLIED,
            FALSE,
            obs.failure.reason,
            obs.failure.message,
            obs.failure.whose_move,
        )
    elif obs.remaining:
        applied = Condition(
            ConditionType.RESOURCES_APPLIED,
            FALSE,
            "Deleting",
            f"{obs.remaining} objects of the stack are being deleted.",
            WhoseMove.TRANSIENT,
        )
    else:
        applied = Condition(
            ConditionType.RESOURCES_APPLIED,
            TRUE,
            "Deleted",
            "Every object of the stack is deleted; the database and the bucket are kept until the registry is "
            "purged.",
        )
    available = Condition(ConditionType.AVAILABLE, FALSE, "Deleted", "The registry is deleted.")
    return [applied, available]


def phase_of(obs: Observation, conditions: Sequence[Condition], is_rolled_out: bool) -> str:
    by_type = {c.type: c for c in conditions}
    if obs.desired_state == DesiredState.DELETED:
        deleted = by_type[ConditionType.RESOURCES_APPLIED].status == TRUE
        return Phase.DELETED if deleted else Phase.DELETING
    if obs.failure is not None and not obs.failure.transient:
        return Phase.FAILED
    applied = by_type[ConditionType.RESOURCES_APPLIED].status == TRUE
    if obs.desired_state == DesiredState.SUSPENDED:
        return Phase.SUSPENDED if applied else Phase.DEGRADED
    if not obs.deployed_version:
        if applied and is_rolled_out and by_type[ConditionType.DEPENDENCIES_READY].status == TRUE:
            return Phase.READY
        return Phase.PROVISIONING
    if obs.deployed_version != obs.desired_version and not (applied and is_rolled_out):
        return Phase.DEGRADED if by_type[ConditionType.DEGRADED].status == TRUE else Phase.UPGRADING
    return Phase.DEGRADED if by_type[ConditionType.DEGRADED].status == TRUE else Phase.READY


def _last_observed(old: dict[str, Any]) -> dict[str, Any] | None:
    """What a condition said when it was last known: carried from one Unknown run to the next."""
    if old.get("status") in (TRUE, FALSE):
        return {
            "status": old["status"],
            "reason": old.get("reason", ""),
            "message": old.get("message", ""),
            "at": old.get("observed_at") or old.get("since") or "",
        }
    last = old.get("last_observed")
    return last if isinstance(last, dict) else None


def _recall(last: dict[str, Any]) -> str:
    """``Last observed 2026-05-01 12:00 UTC: True (AllComponentsAvailable), Available: core.``"""
    at = parse_datetime(str(last.get("at") or ""))
    when = f" {at:%Y-%m-%d %H:%M} UTC" if at is not None else ""
    return f"Last observed{when}: {last.get('status')} ({last.get('reason')}), {last.get('message')}"


def derive(obs: Observation, previous: Sequence[dict[str, Any]], now: datetime) -> Derived:
    """The registry's conditions (``since`` kept from ``previous`` while a status holds) and its phase."""
    if obs.desired_state == DesiredState.DELETED:
        conditions = deletion_conditions(obs)
        is_rolled_out = False
    else:
        first = [
            dependencies_condition(obs),
            resources_condition(obs),
            available_condition(obs),
            progressing_condition(obs),
        ]
        conditions = [*first, degraded_condition(obs, first)]
        is_rolled_out = rolled_out(obs) and obs.desired_state == DesiredState.RUNNING
    phase = phase_of(obs, conditions, is_rolled_out)
    before = {c.get("type"): c for c in previous}
    stamp = now.isoformat()
    rendered = []
    for condition in conditions:
        old = before.get(condition.type) or {}
        since = old.get("since") if old.get("status") == condition.status and old.get("since") else stamp
        item: dict[str, Any] = {
            "type": condition.type,
            "status": condition.status,
            "reason": condition.reason,
            "message": condition.message,
            "whose_move": condition.whose_move,
            "since": since,
        }
        if condition.status != UNKNOWN:
            item["observed_at"] = stamp
        else:
            last = _last_observed(old)
            if last is not None:
                item["last_observed"] = last
                item["message"] = f"{condition.message} {_recall(last)}"
        rendered.append(item)
    problems = [
        c
        for c in conditions
        if (c.status == TRUE) == (c.type == ConditionType.DEGRADED) and c.type != ConditionType.PROGRESSING
    ]
    return Derived(rendered, phase, is_rolled_out, problems)
