"""Bulk operations: reconcile, suspend, resume or upgrade a selection of registries in one request.

Each registry gets what the single-registry operation would give it — the same refusals (plus suspend while an
upgrade is under way), the same state change, audit event, event and one reconcile run (a queued run is reused)
— but the whole selection costs a constant number of queries: one locked read, one update, bulk inserts, and a
single message after the commit, whose task enqueues every run over one broker connection. The
:class:`BulkOperation` row records the runs and refusals.

An upgrade gives each deployed registry its own step-by-step upgrade
(:func:`provisioning.upgrades.operation.start_upgrade`: pre-flight, audit, event), which costs a few dozen queries
per registry, so the request does not start them: it refuses what every upgrade entry point refuses, lists each
deployed registry accepted as a pending upgrade and sends one :func:`start_bulk_upgrades` message per cluster queue;
the worker starts them one by one and records each outcome on the operation as it comes (the upgrade started, or a
refusal: a failed pre-flight names its halted upgrade). Registries never deployed
(:func:`provisioning.services.registries.never_deployed`) change version in place, as above.
"""

from __future__ import annotations

import logging
from collections import defaultdict
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
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import refuse_upgrade
from provisioning.upgrades.operation import start_upgrade

logger = logging.getLogger("provisioning.bulk")

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
    queue: str = ""

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
    values = (
        selection.select_for_update(of=("self",))
        .order_by("id")
        .values_list(*fields, "generation", "cluster__queue")
    )
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
    pending: list[Row] = []
    if action == BulkAction.UPGRADE:
        pending = [row for row in accepted if not row.never_deployed]
        accepted = [row for row in accepted if row.never_deployed]
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
        upgrades=[{"registry": row.id, "upgrade": None} for row in pending],
        refusals=[
            {"registry": registry_id, "code": code, "reason": reason}
            for registry_id, (code, reason) in refused.items()
        ],
    )
    accepted_count = len(ids) + len(pending)
    record(
        actor, via, f"bulk_{action}", operation, changes={"accepted": accepted_count, "refused": len(refused)}
    )
    if new:
        transaction.on_commit(lambda: fan_out_bulk.apply_async(args=(operation.pk,)))
    by_queue: dict[str, list[int]] = defaultdict(list)
    for row in pending:
        by_queue[row.queue].append(row.id)
    for queue, registry_ids in by_queue.items():
        transaction.on_commit(
            lambda queue=queue, registry_ids=registry_ids: start_bulk_upgrades.apply_async(  # type: ignore[misc]
                args=(operation.pk, registry_ids), queue=queue
            )
        )
    return operation


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


START_BULK_UPGRADES_TASK = "provisioning.services.bulk.start_bulk_upgrades"


@shared_task(name=START_BULK_UPGRADES_TASK, acks_late=True, ignore_result=True)
def start_bulk_upgrades(operation_id: int, registry_ids: list[int]) -> int:
    """In a worker (on the registries' cluster queue): start the step-by-step upgrade of each of these registries
    still pending on the bulk upgrade, recording each outcome on the operation as it comes. A message delivered
    again starts none twice. Returns how many upgrades were started (pre-flight passed)."""
    return sum(start_pending_upgrade(operation_id, registry_id) for registry_id in registry_ids)


@transaction.atomic
def start_pending_upgrade(operation_id: int, registry_id: int) -> bool:
    """Start one registry's upgrade of the bulk upgrade, if still pending, and record the outcome in the same
    transaction (the operation's row locked, so that outcomes from several queues do not overwrite each other):
    the upgrade started, or a refusal — the refusals of every upgrade entry point when things changed since the
    request, ``preflight_failed`` naming the halted upgrade, ``start_failed`` on an unexpected error (nothing
    stored for this registry, retry with a new upgrade). True when an upgrade started."""
    locked = BulkOperation.objects.select_for_update(of=("self",)).select_related("requested_by")
    bulk = locked.filter(pk=operation_id).first()
    if bulk is None:
        return False
    pending = [i for i in bulk.upgrades if i["registry"] == registry_id and i.get("upgrade") is None]
    if not pending:
        return False
    entry = pending[0]
    full = Registry.objects.select_related("cluster", "tenant", "database", "cache", "storage")
    registry = full.filter(pk=registry_id).first()
    refusal: dict[str, Any] | None = None
    upgrade = None
    if registry is None:
        refusal = {"code": "registry_gone", "reason": f"Registry {registry_id} no longer exists."}
    else:
        try:
            with transaction.atomic():
                refuse_upgrade(registry, bulk.target_version)
                upgrade = start_upgrade(registry, bulk.target_version, actor=bulk.requested_by, via=Via.API)
        except ActionRefused as exc:
            refusal = {"code": exc.code, "reason": f"{registry}: {exc.message}"}
        except Exception as exc:  # recorded, not left pending for ever; the worker goes on with the next one
            logger.exception("bulk upgrade %s: starting the upgrade of %s failed", operation_id, registry)
            refusal = {
                "code": "start_failed",
                "reason": f"{registry}: the upgrade could not be started ({exc}); nothing changed. Upgrade it again.",
            }
    if upgrade is not None and not upgrade.is_open:
        refusal = {
            "code": "preflight_failed",
            "reason": f"{registry}: {upgrade.reason}",
            "upgrade": upgrade.pk,
        }
    if refusal is None and upgrade is not None:
        entry["upgrade"] = upgrade.pk
    else:
        bulk.upgrades.remove(entry)
        bulk.refusals.append({"registry": registry_id, **(refusal or {})})
    bulk.save(update_fields=["upgrades", "refusals"])
    return refusal is None
