"""Bulk operations: reconcile, suspend, resume or upgrade a selection of registries in one request.

Each registry gets what the single-registry operation would give it — the same refusals (plus suspend while an
upgrade is under way), the same state change, audit event, event and one reconcile run (a queued run is reused)
— but the whole selection costs a constant number of queries: one locked read, one update, bulk inserts, and a
single message after the commit, whose task enqueues every run over one broker connection. The
:class:`BulkOperation` row records the runs and refusals.

An upgrade is the exception: each deployed registry gets its own step-by-step upgrade
(:func:`provisioning.upgrades.operation.start_upgrade`, with its pre-flight, audit and event; a failed pre-flight is
listed as a refusal with the halted upgrade), which costs a few queries per registry. Only registries never
deployed (:func:`provisioning.services.registries.never_deployed`) change version in place, as above.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from provisioning import catalogue
from provisioning.audit import record
from provisioning.choices import DesiredState, Phase, RunStatus, RunTrigger, Via
from provisioning.events import hooks
from provisioning.models import AuditEvent, BulkOperation, ReconcileRun, Registry, Upgrade
from provisioning.models.bulk import BulkAction
from provisioning.upgrades.operation import start_upgrade

STATE_CHANGES: dict[str, dict[str, Any]] = {
    BulkAction.SUSPEND: {"desired_state": DesiredState.SUSPENDED},
    BulkAction.RESUME: {"desired_state": DesiredState.RUNNING},
}


@dataclass(frozen=True)
class Row:
    """What a bulk operation reads of each registry (one query for the whole selection)."""

    id: int
    label: str
    phase: str
    desired_state: str
    harbor_version: str
    deployed_version: str
    generation: int

    @property
    def never_deployed(self) -> bool:
        """As :func:`provisioning.services.registries.never_deployed`."""
        return not self.deployed_version and self.phase != Phase.READY


def refusal(row: Row, action: str, target_version: str, stepwise: bool = False) -> tuple[str, str] | None:
    """(code, reason) when the action may not run on this registry, as the single-registry services say;
    ``stepwise``: a step-by-step upgrade of the registry is running (see :mod:`provisioning.upgrades`)."""
    if action == BulkAction.RECONCILE:
        if row.phase == Phase.PURGED:
            return "registry_purged", f"{row.label} is purged: nothing is left to reconcile."
        return None
    if row.desired_state == DesiredState.DELETED:
        return "registry_deleted", f"{row.label} is deleted: it cannot be changed."
    if action == BulkAction.SUSPEND:
        if row.desired_state == DesiredState.SUSPENDED:
            return "already_suspended", f"{row.label} is already suspended."
        upgrading = bool(row.deployed_version) and row.deployed_version != row.harbor_version
        if row.phase == Phase.UPGRADING or upgrading or stepwise:
            return (
                "upgrade_in_progress",
                f"{row.label} is being upgraded to {row.harbor_version}: suspend it once the upgrade is done.",
            )
    if action == BulkAction.RESUME and row.desired_state != DesiredState.SUSPENDED:
        return "not_suspended", f"{row.label} is not suspended: there is nothing to resume."
    if action == BulkAction.UPGRADE:
        reason = catalogue.upgrade_refusal(row.harbor_version, target_version)
        if reason:
            return "upgrade_not_allowed", f"{row.label}: {reason}"
        if stepwise:
            return (
                "upgrade_under_way",
                f"{row.label} is being upgraded step by step: follow or roll back that upgrade.",
            )
    return None


def _rows(selection: QuerySet[Registry]) -> list[Row]:
    fields = ("id", "tenant__slug", "name", "phase", "desired_state", "harbor_version", "deployed_version")
    values = selection.select_for_update(of=("self",)).order_by("id").values_list(*fields, "generation")
    return [Row(v[0], f"{v[1]}/{v[2]}", *v[3:]) for v in values]


@transaction.atomic
def run_bulk(
    selection: QuerySet[Registry],
    action: str,
    *,
    actor: Any,
    via: str = Via.API,
    target_version: str = "",
    described: dict[str, Any] | None = None,
) -> BulkOperation:
    rows = _rows(selection)
    stepwise = set(
        Upgrade.objects.open()
        .filter(registry_id__in=[r.id for r in rows])
        .values_list("registry_id", flat=True)
    )
    refused = {
        row.id: reason for row in rows if (reason := refusal(row, action, target_version, row.id in stepwise))
    }
    accepted = [row for row in rows if row.id not in refused]
    upgrades: list[dict[str, int]] = []
    halted: dict[int, dict[str, int]] = {}
    if action == BulkAction.UPGRADE:
        stepwise_rows = [row for row in accepted if not row.never_deployed]
        accepted = [row for row in accepted if row.never_deployed]
        upgrades, halted = _start_upgrades(stepwise_rows, target_version, actor, via, refused)
    ids = [row.id for row in accepted]
    now = timezone.now()
    changes = dict(STATE_CHANGES.get(action, {}))
    if action == BulkAction.UPGRADE:
        changes["harbor_version"] = target_version
    if changes and ids:
        Registry.objects.filter(pk__in=ids).update(**changes, generation=F("generation") + 1, updated_at=now)
    user = actor if getattr(actor, "is_authenticated", False) else None
    actor_name = getattr(user, "username", "") or "system"
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=user,
            actor_name=actor_name,
            via=via,
            action=str(action),
            target_type="registry",
            target_id=str(row.id),
            target_repr=row.label,
            registry_id=row.id,
            changes=_diff(row, changes),
        )
        for row in accepted
    )
    if changes and ids:
        hooks.registry_actions(ids, str(action), actor=actor_name, via=via)
    runs, new = _runs(accepted, bool(changes), user, str(action))
    operation = BulkOperation.objects.create(
        action=action,
        target_version=target_version,
        selection=described or {},
        requested_by=user,
        runs=[{"registry": registry_id, "run": run.pk} for registry_id, run in runs],
        upgrades=upgrades,
        refusals=[
            {"registry": registry_id, "code": code, "reason": reason, **halted.get(registry_id, {})}
            for registry_id, (code, reason) in refused.items()
        ],
    )
    accepted_count = len(ids) + len(upgrades)
    record(
        actor, via, f"bulk_{action}", operation, changes={"accepted": accepted_count, "refused": len(refused)}
    )
    if new:
        transaction.on_commit(lambda: fan_out_bulk.apply_async(args=(operation.pk,)))
    return operation


def _start_upgrades(
    rows: list[Row], target_version: str, actor: Any, via: str, refused: dict[int, tuple[str, str]]
) -> tuple[list[dict[str, int]], dict[int, dict[str, int]]]:
    """Start each registry's step-by-step upgrade; one whose pre-flight failed joins ``refused`` (code
    ``preflight_failed``, the reason) and its halted upgrade is named. Returns ([{registry, upgrade}] started,
    {registry: {"upgrade": id}} halted)."""
    started: list[dict[str, int]] = []
    halted: dict[int, dict[str, int]] = {}
    full = Registry.objects.select_related("cluster", "tenant", "database", "cache", "storage")
    for registry in full.filter(pk__in=[row.id for row in rows]).order_by("id"):
        upgrade = start_upgrade(registry, target_version, actor=actor, via=via)
        if upgrade.is_open:
            started.append({"registry": registry.pk, "upgrade": upgrade.pk})
        else:
            refused[registry.pk] = ("preflight_failed", f"{registry}: {upgrade.reason}")
            halted[registry.pk] = {"upgrade": upgrade.pk}
    return started, halted


def _diff(row: Row, changes: dict[str, Any]) -> dict[str, Any]:
    return {name: [getattr(row, name), str(value)] for name, value in changes.items()}


def _runs(
    accepted: list[Row], bumped: bool, user: Any, operation: str
) -> tuple[list[tuple[int, ReconcileRun]], list[ReconcileRun]]:
    """A queued run per registry: the one already queued, else a new one (all created in one insert); returns
    (registry, run) pairs and the new runs, which are the ones to enqueue."""
    queued: dict[int, ReconcileRun] = {}
    for run in ReconcileRun.objects.filter(
        registry_id__in=[row.id for row in accepted], status=RunStatus.QUEUED
    ).order_by("id"):
        queued.setdefault(run.registry_id, run)
    new = [
        ReconcileRun(
            registry_id=row.id,
            trigger=RunTrigger.ACTION if bumped else RunTrigger.MANUAL,
            requested_by=user,
            operation=operation,
            generation=row.generation + (1 if bumped else 0),
        )
        for row in accepted
        if row.id not in queued
    ]
    ReconcileRun.objects.bulk_create(new)
    by_registry = {**queued, **{run.registry_id: run for run in new}}
    return [(row.id, by_registry[row.id]) for row in accepted], new


@shared_task(ignore_result=True)
def fan_out_bulk(operation_id: int) -> int:
    """In a worker: enqueue the reconcile of every run of the operation still queued (the request sent only this
    one message, so a bulk answer does not wait for a thousand). Returns how many were sent."""
    operation = BulkOperation.objects.filter(pk=operation_id).first()
    if operation is None:
        return 0
    run_ids = [item["run"] for item in operation.runs]
    queued = ReconcileRun.objects.filter(pk__in=run_ids, status=RunStatus.QUEUED)
    items = list(queued.values_list("pk", "registry_id", "registry__cluster__queue"))
    enqueue(items)
    return len(items)


def enqueue(items: Iterable[tuple[int, int, str]]) -> None:
    """Send the reconcile tasks over one broker connection."""
    from provisioning.tasks import reconcile_registry

    with reconcile_registry.app.producer_or_acquire() as producer:
        for run_id, registry_id, queue in items:
            reconcile_registry.apply_async(
                args=(registry_id,), kwargs={"run_id": run_id}, queue=queue, producer=producer
            )
