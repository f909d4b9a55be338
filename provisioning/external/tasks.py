"""Celery tasks of the external services: the periodic dependency check, fanned out one task per registry.

Each registry's check runs on its cluster's queue, so a slow region delays only its own registries. A dependency
whose status changed (broken, or recovered) asks for the registry's reconciliation: a broken one is repaired there
when the console can repair it, and a recovered one releases the rollout it was holding.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from provisioning.choices import DesiredState, Phase, RunTrigger, WhoseMove
from provisioning.external.dependencies import check_dependencies, service_bindings
from provisioning.models import Registry

log = logging.getLogger(__name__)


def registries_to_check() -> list[tuple[int, str]]:
    """(registry id, cluster queue) of every registry whose dependencies are in use: not deleted, not purged."""
    return list(
        Registry.objects.exclude(desired_state=DesiredState.DELETED)
        .exclude(phase__in=[Phase.DELETED, Phase.PURGED])
        .order_by("pk")
        .values_list("pk", "cluster__queue")
    )


@shared_task(name="provisioning.external.check_all_dependencies", acks_late=True)
def check_all_dependencies() -> int:
    """Enqueue one dependency check per registry; return how many were enqueued."""
    expires = settings.DEPENDENCY_CHECK_INTERVAL_SECONDS
    targets = registries_to_check()
    for registry_id, queue in targets:
        check_registry_dependencies.apply_async(args=(registry_id,), queue=queue, expires=expires)
    return len(targets)


@shared_task(name="provisioning.external.check_registry_dependencies", acks_late=True)
def check_registry_dependencies(registry_id: int) -> str | None:
    """Check one registry's dependencies; request a reconcile when any of them changed status.

    Returns the report's message, or None when the registry is gone.
    """
    registry = Registry.objects.with_related().filter(pk=registry_id).first()
    if registry is None:
        return None
    before = {kind: b.status for kind, b in service_bindings(registry).items() if b is not None}
    report = check_dependencies(registry)
    changed = [item.kind for item in report.items if item.kind in before and before[item.kind] != item.status]
    repairable = [item.kind for item in report.holding if item.whose_move == WhoseMove.TRANSIENT]
    if changed or repairable:
        from provisioning.services.registries import request_reconcile

        kinds = ", ".join(dict.fromkeys(changed + repairable))
        log.info("dependencies of %s need a reconcile (%s)", registry, kinds)
        request_reconcile(registry, RunTrigger.SWEEP, operation="dependency-check")
    return report.message
