"""Creating and changing registries, and the operations support staff and automation run on them.

Each function changes the database, records an audit event and enqueues the registry's reconciliation after the
transaction commits. None talks to Kubernetes or to the external services: reconciliation does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from provisioning import audit, catalogue, naming
from provisioning.choices import CacheMode, ComponentKind, DesiredState, Phase, RunStatus, RunTrigger
from provisioning.models import (
    CacheBinding,
    Component,
    DatabaseBinding,
    IngressBinding,
    ReconcileRun,
    Registry,
    StorageBinding,
    Upgrade,
    installation_id,
)
from provisioning.naming import ServiceNames
from provisioning.services import placement
from provisioning.services.errors import ActionRefused

EDITABLE_FIELDS = (
    "plan",
    "storage_quota_gib",
    "replicas",
    "trivy_enabled",
    "parallel_request_limit",
    "hostname",
    "cluster",
)


def service_names(registry: Registry) -> ServiceNames:
    """The names of a saved registry's share of the shared services (see :mod:`provisioning.naming`)."""
    return naming.service_names(installation_id(), registry.pk, registry.tenant.slug, registry.name)


@transaction.atomic
def create_registry(
    *,
    actor: Any,
    via: str,
    cache_mode: str = CacheMode.MANAGED,
    region: str = "",
    cluster_labels: dict[str, str] | None = None,
    **fields: Any,
) -> Registry:
    """Validate and create a registry with its components and bindings; enqueue its first reconciliation.

    Without a ``cluster`` it is placed in ``region`` on a cluster carrying ``cluster_labels`` (see
    :mod:`provisioning.services.placement`)."""
    errors: dict[str, list[str]] = {}
    try:
        fields["cluster"] = placement.choose_cluster(
            plan=fields.get("plan"),
            region=region or "",
            cluster=fields.get("cluster"),
            labels=cluster_labels,
        )
    except ValidationError as error:
        errors.update(error.message_dict)
    registry = Registry(**fields)
    if registry.tenant_id and registry.name:
        registry.namespace = registry.default_namespace()
    try:
        registry.full_clean(exclude=["cluster"] if errors else None)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    registry.save()
    names = service_names(registry)
    DatabaseBinding.objects.create(registry=registry, name=names.database, owner_role=names.owner_role)
    CacheBinding.objects.create(registry=registry, mode=cache_mode)
    StorageBinding.objects.create(registry=registry, bucket=names.bucket)
    IngressBinding.objects.create(registry=registry, tls_secret_name=f"{registry.name}-tls")
    sync_components(registry)
    audit.record(actor, via, "create", registry, changes=registry.spec_snapshot())
    request_reconcile(registry, RunTrigger.CREATED, actor=actor)
    return registry


def sync_components(registry: Registry) -> None:
    """Make the component rows match the components the registry's settings call for."""
    eff = registry.effective()
    wanted = {
        ComponentKind.CORE: eff.replicas,
        ComponentKind.PORTAL: eff.replicas,
        ComponentKind.REGISTRY: eff.replicas,
        ComponentKind.JOBSERVICE: eff.replicas,
        ComponentKind.EXPORTER: 1,
    }
    if eff.trivy_enabled:
        wanted[ComponentKind.TRIVY] = 1
    cache = CacheBinding.objects.filter(registry=registry).values_list("mode", flat=True).first()
    if cache == CacheMode.MANAGED:
        wanted[ComponentKind.REDIS] = 1
    registry.components.exclude(kind__in=list(wanted)).delete()
    for kind, replicas in wanted.items():
        Component.objects.update_or_create(
            registry=registry, kind=kind, defaults={"desired_replicas": replicas}
        )


def refuse_if_gone(registry: Registry, action: str) -> None:
    if registry.desired_state == DesiredState.DELETED:
        raise ActionRefused(
            f"{registry} is deleted: it cannot be {action}. Restore is not possible; create a new registry.",
            code="registry_deleted",
        )


@transaction.atomic
def update_registry(registry: Registry, changes: dict[str, Any], *, actor: Any, via: str) -> Registry:
    """Apply allowed field changes; a change of spec bumps the generation and enqueues a reconciliation."""
    refuse_if_gone(registry, "changed")
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ActionRefused(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}. "
            "Use the upgrade action to change the Harbor version.",
            code="not_editable",
            status=400,
        )
    locked = Registry.objects.select_for_update().get(pk=registry.pk)
    if "cluster" in changes:
        placement.refuse_move(locked, changes["cluster"])
    before = locked.spec_snapshot()
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    after = locked.spec_snapshot()
    if after != before:
        locked.generation = F("generation") + 1
        locked.save()
        locked.refresh_from_db()
        sync_components(locked)
        audit.record(actor, via, "update", locked, changes=audit.diff(before, after))
        request_reconcile(locked, RunTrigger.CHANGED, actor=actor)
    return locked


def request_reconcile(
    registry: Registry, trigger: str, *, actor: Any = None, operation: str = ""
) -> ReconcileRun:
    """Queue a reconciliation of the registry, unless one is already queued: duplicates are dropped."""
    queued = ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).first()
    if queued is not None:
        return queued
    user = actor if getattr(actor, "is_authenticated", False) else None
    run = ReconcileRun.objects.create(
        registry=registry,
        trigger=trigger,
        requested_by=user,
        operation=operation,
        generation=registry.generation,
    )
    queue = registry.cluster.queue
    transaction.on_commit(lambda: enqueue_run(run.pk, registry.pk, queue))
    return run


def enqueue_run(run_id: int, registry_id: int, queue: str) -> None:
    from provisioning.tasks import reconcile_registry

    reconcile_registry.apply_async(args=(registry_id,), kwargs={"run_id": run_id}, queue=queue)


def _change_state(registry: Registry, *, actor: Any, via: str, action: str, **values: Any) -> ReconcileRun:
    locked = Registry.objects.select_for_update().get(pk=registry.pk)
    before = locked.spec_snapshot()
    for name, value in values.items():
        setattr(locked, name, value)
    locked.generation += 1
    locked.save()
    audit.record(actor, via, action, locked, changes=audit.diff(before, locked.spec_snapshot()))
    return request_reconcile(locked, RunTrigger.ACTION, actor=actor, operation=action)


@transaction.atomic
def reconcile_now(registry: Registry, *, actor: Any, via: str) -> ReconcileRun:
    if registry.phase == Phase.PURGED:
        raise ActionRefused(f"{registry} is purged: nothing is left to reconcile.", code="registry_purged")
    audit.record(actor, via, "reconcile", registry)
    return request_reconcile(registry, RunTrigger.MANUAL, actor=actor, operation="reconcile")


@transaction.atomic
def suspend(registry: Registry, *, actor: Any, via: str) -> ReconcileRun:
    refuse_if_gone(registry, "suspended")
    if registry.desired_state == DesiredState.SUSPENDED:
        raise ActionRefused(f"{registry} is already suspended.", code="already_suspended")
    return _change_state(
        registry, actor=actor, via=via, action="suspend", desired_state=DesiredState.SUSPENDED
    )


@transaction.atomic
def resume(registry: Registry, *, actor: Any, via: str) -> ReconcileRun:
    refuse_if_gone(registry, "resumed")
    if registry.desired_state != DesiredState.SUSPENDED:
        raise ActionRefused(f"{registry} is not suspended: there is nothing to resume.", code="not_suspended")
    return _change_state(registry, actor=actor, via=via, action="resume", desired_state=DesiredState.RUNNING)


def never_deployed(registry: Registry) -> bool:
    """No Harbor version of the registry was ever seen rolled out: it never was Ready (Ready sets
    ``deployed_version``), never served anyone, and its database holds no data of Harbor's worth migrating."""
    return not registry.deployed_version and registry.phase != Phase.READY


def refuse_upgrade(registry: Registry, target_version: str) -> None:
    """The refusals of every upgrade entry point (the registry action, bulk, ``/api/v1/upgrades/``, the pages),
    raised before anything is stored: a deleted registry, a path the catalogue forbids (400 on target_version), an
    upgrade already under way (409). What the pre-flight finds beyond these is recorded as a halted upgrade."""
    refuse_if_gone(registry, "upgraded")
    refusal = catalogue.upgrade_refusal(registry.harbor_version, target_version)
    if refusal:
        raise ActionRefused(refusal, code="upgrade_not_allowed", field="target_version", status=400)
    if Upgrade.objects.open().filter(registry_id=registry.pk).exists():
        raise ActionRefused(
            f"{registry} is being upgraded step by step: follow that upgrade (its page, or /api/v1/upgrades/), "
            "roll it back, or wait until it ends.",
            code="upgrade_under_way",
        )


@transaction.atomic
def upgrade(
    registry: Registry,
    target_version: str,
    *,
    actor: Any,
    via: str,
    budget_seconds: int | None = None,
) -> Upgrade | ReconcileRun:
    """Move the registry to ``target_version`` when the path is allowed; otherwise say why not.

    A deployed registry gets the step-by-step upgrade (:func:`provisioning.upgrades.operation.start_upgrade`:
    pre-flight, the schema migration Job, then each component in Harbor's order): the Upgrade is returned, halted
    at its pre-flight when a check failed (then nothing else changed). A registry never deployed
    (:func:`never_deployed`) has nothing to migrate nor an order to keep: its version changes in place and the
    reconcile run is returned."""
    refuse_upgrade(registry, target_version)
    if never_deployed(registry):
        return _change_state(registry, actor=actor, via=via, action="upgrade", harbor_version=target_version)
    from provisioning.upgrades.operation import start_upgrade  # it builds on this module

    full = Registry.objects.select_related("cluster", "database", "cache", "storage").get(pk=registry.pk)
    return start_upgrade(full, target_version, actor=actor, via=via, budget_seconds=budget_seconds)


@transaction.atomic
def delete(registry: Registry, *, actor: Any, via: str) -> ReconcileRun:
    """Soft delete: the stack goes away, the data (database, bucket) stays until a purge."""
    refuse_if_gone(registry, "deleted again")
    return _change_state(
        registry,
        actor=actor,
        via=via,
        action="delete",
        desired_state=DesiredState.DELETED,
        deleted_at=timezone.now(),
    )


def purge_allowed_at(registry: Registry) -> Any:
    if registry.deleted_at is None:
        return None
    return registry.deleted_at + timedelta(days=settings.PURGE_RETENTION_DAYS)


@transaction.atomic
def purge(registry: Registry, *, actor: Any, via: str, force: bool = False) -> ReconcileRun:
    """Remove a deleted registry's data for good, once its retention period is over.

    The bucket is removed only when empty, unless ``force`` deletes what is left in it too.
    """
    if registry.phase == Phase.PURGED:
        raise ActionRefused(f"{registry} is already purged.", code="already_purged")
    if registry.desired_state != DesiredState.DELETED or registry.phase != Phase.DELETED:
        raise ActionRefused(
            f"{registry} must be deleted (and its stack gone) before it can be purged.", code="not_deleted"
        )
    allowed_at = purge_allowed_at(registry)
    if allowed_at and allowed_at > timezone.now():
        raise ActionRefused(
            f"{registry}'s data is retained until {allowed_at:%Y-%m-%d %H:%M} UTC "
            f"({settings.PURGE_RETENTION_DAYS} days after deletion); purge after that.",
            code="retention_period",
        )
    audit.record(actor, via, "purge", registry, changes={"force": force})
    run = ReconcileRun.objects.create(
        registry=registry,
        trigger=RunTrigger.ACTION,
        operation="purge",
        generation=registry.generation,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: _enqueue_purge(run.pk, registry.pk, registry.cluster.queue, force))
    return run


def _enqueue_purge(run_id: int, registry_id: int, queue: str, force: bool) -> None:
    from provisioning.tasks import purge_registry

    purge_registry.apply_async(args=(registry_id,), kwargs={"run_id": run_id, "force": force}, queue=queue)


def validation_messages(exc: ValidationError) -> dict[str, list[str]]:
    """Field → messages of a ValidationError, '__all__' for the rest."""
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in exc.error_dict.items()
        }
    return {"__all__": list(exc.messages)}
