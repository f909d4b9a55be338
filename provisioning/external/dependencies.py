"""A registry's dependencies as a whole: provision, check, finish rotations and purge, binding by binding.

Only reconciliation and the tasks that call it use this module. Each binding is saved after every step, success or
not, so what a failed step left behind (a role, a bucket, an access key) is known to the next run, which finishes it.
Checks save only the status fields, so a check running beside a reconcile never overwrites credentials.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from harborconsole import tracing
from provisioning import audit
from provisioning.choices import BindingStatus, CacheMode, ErrorClass, RunTrigger, Via, WhoseMove
from provisioning.external import connections, desired, tls
from provisioning.external.base import CheckResult, DependencyError, RotationNotSupported, ServiceProvider
from provisioning.external.postgres import PostgresProvider
from provisioning.external.redis import redis_provider
from provisioning.external.s3 import S3Storage
from provisioning.models import (
    Binding,
    CacheBinding,
    DatabaseBinding,
    IngressBinding,
    Registry,
    StorageBinding,
)

log = logging.getLogger(__name__)

SERVICE_KINDS = ("database", "cache", "storage")
"""Dependencies provisioned before the stack; the ingress certificate is issued with it."""
HOLDING = frozenset({BindingStatus.UNREACHABLE, BindingStatus.MISCONFIGURED})
"""Statuses that hold the stack's rollout."""
STATUS_FIELDS = [
    "status",
    "status_message",
    "whose_move",
    "status_since",
    "last_checked_at",
    "latency_ms",
    "check_details",
]
EXTRA_STATUS_FIELDS = {
    "database": ["server_version"],
    "cache": ["server_version", "used_memory_bytes", "maxmemory_bytes"],
}
MOVE_NOTE: dict[str, str] = {
    WhoseMove.PROVIDER: "provider's move",
    WhoseMove.CUSTOMER: "customer's move",
    WhoseMove.TRANSIENT: "retried automatically",
}


@dataclass(frozen=True)
class DependencyItem:
    """One dependency's observed state, as the reconciler puts it into the DependenciesReady condition."""

    kind: str
    status: str
    message: str
    whose_move: str = WhoseMove.NONE
    blocking: bool = True
    """False for what comes with the stack itself (the certificate): it is reported, never holds the rollout."""

    @property
    def ok(self) -> bool:
        return self.status == BindingStatus.OK

    @property
    def holds_rollout(self) -> bool:
        return self.blocking and self.status in HOLDING

    @property
    def sentence(self) -> str:
        move = MOVE_NOTE.get(self.whose_move)
        text = f"{self.kind} {self.message.rstrip('.')}"
        return f"{text} ({move})" if move else text


@dataclass(frozen=True)
class DependencyReport:
    """Every dependency of one registry. ``ready`` once none of them is unreachable or misconfigured.

    Degraded or not-yet-known dependencies (a Redis near its memory limit, a managed Redis or a certificate that
    comes with the stack) are named in ``message`` but do not hold the rollout.
    """

    items: list[DependencyItem] = field(default_factory=list)
    provisioned: tuple[str, ...] = ()
    """The kinds provisioned (and checked) by this call; the others were read from their binding rows."""
    called: tuple[str, ...] = ()
    """Of those, the ones whose provisioning talked to a shared service (a managed Redis is only rendered)."""

    @property
    def holding(self) -> list[DependencyItem]:
        return [item for item in self.items if item.holds_rollout]

    @property
    def ready(self) -> bool:
        return not self.holding

    @property
    def message(self) -> str:
        holding = [item.sentence for item in self.holding]
        others = [item.sentence for item in self.items if not item.ok and not item.holds_rollout]
        if holding:
            return "; ".join(holding + others) + "."
        if others:
            return "Dependencies are ready; " + "; ".join(others) + "."
        return "Dependencies are ready: " + ", ".join(item.kind for item in self.items) + "."

    @property
    def whose_move(self) -> str:
        moves = {item.whose_move for item in self.holding}
        for move in (WhoseMove.PROVIDER, WhoseMove.CUSTOMER, WhoseMove.TRANSIENT):
            if move in moves:
                return move
        return WhoseMove.NONE

    @property
    def error_class(self) -> str:
        """The stable code of a run this report fails: unreachable wins over misconfigured."""
        statuses = {item.status for item in self.holding}
        if BindingStatus.UNREACHABLE in statuses:
            return ErrorClass.DEPENDENCY_UNREACHABLE
        if statuses:
            return ErrorClass.DEPENDENCY_MISCONFIGURED
        return ErrorClass.NONE

    def item(self, kind: str) -> DependencyItem:
        """The item of ``kind`` (KeyError when the report has none)."""
        for item in self.items:
            if item.kind == kind:
                return item
        raise KeyError(kind)


# -- bindings and their providers ------------------------------------------------------------------------------


def service_bindings(registry: Registry) -> dict[str, Binding | None]:
    """The registry's database, cache and storage bindings, read fresh (None for one that is missing)."""
    models: dict[str, type[DatabaseBinding] | type[CacheBinding] | type[StorageBinding]] = {
        "database": DatabaseBinding,
        "cache": CacheBinding,
        "storage": StorageBinding,
    }
    return {
        kind: model.objects.select_related("registry__cluster", "registry__plan", "registry__tenant")
        .filter(registry=registry)
        .first()
        for kind, model in models.items()
    }


def provider_for(binding: Binding) -> ServiceProvider[Binding]:
    cluster = binding.registry.cluster  # type: ignore[attr-defined]
    timeout = connections.timeout_seconds()
    provider: object
    if isinstance(binding, DatabaseBinding):
        provider = PostgresProvider(connections.database_admin_url(cluster), timeout)
    elif isinstance(binding, CacheBinding):
        provider = redis_provider(binding, timeout)
    elif isinstance(binding, StorageBinding):
        provider = S3Storage(connections.s3_admin(cluster), timeout)
    else:
        raise TypeError(f"no provider for {type(binding).__name__}")
    return tracing.traced_provider(provider, binding.KIND)


def _save_provisioning(binding: Binding, *, rotation: bool = False) -> None:
    """Save what provisioning changed, not the check figures; the rotation request only when this step handled it."""
    skip = {"id", "registry", *STATUS_FIELDS, *EXTRA_STATUS_FIELDS.get(binding.KIND, [])}
    if not rotation:
        skip.add("rotation_requested_at")
    binding.save(update_fields=[f.name for f in binding._meta.concrete_fields if f.name not in skip])


def _record(binding: Binding, result: CheckResult) -> None:
    binding.record_check(result.status, result.message, result.whose_move, result.latency_ms)
    binding.check_details = result.details
    binding.save(update_fields=STATUS_FIELDS + EXTRA_STATUS_FIELDS.get(binding.KIND, []))


def _missing(kind: str) -> DependencyItem:
    return DependencyItem(
        kind,
        BindingStatus.MISCONFIGURED,
        "has no binding row: recreate it (the registry was created without one).",
        WhoseMove.PROVIDER,
    )


def _item(kind: str, result: CheckResult, *, blocking: bool = True) -> DependencyItem:
    return DependencyItem(kind, result.status, result.message, result.whose_move, blocking)


def _certificate_item(registry: Registry, ingress: IngressBinding | None = None) -> DependencyItem | None:
    ingress = ingress or (
        IngressBinding.objects.select_related("registry", "registry__cluster")
        .filter(registry=registry)
        .first()
    )
    if ingress is None:
        return None
    tls.apply_expiry_warning(ingress)
    return _item("certificate", tls.certificate_result(ingress), blocking=False)


# -- the four operations the reconciler calls -----------------------------------------------------------------


def prepare_dependencies(registry: Registry) -> DependencyReport:
    """Provision (idempotently), start any requested rotation, then check database, cache and storage.

    A check that finds something the console can repair (a dropped role, a changed password, a deleted access key)
    provisions once more with the stored credentials and checks again.
    """
    items = []
    for kind, binding in service_bindings(registry).items():
        items.append(_prepare_one(registry, binding) if binding is not None else _missing(kind))
    certificate = _certificate_item(registry)
    if certificate is not None:
        items.append(certificate)
    return DependencyReport(items)


def prepare_changed_dependencies(registry: Registry) -> DependencyReport:
    """What a reconcile calls: provision and check only the dependencies whose desired state changed, or whose last
    check was not OK or is stale (:func:`provisioning.external.desired.settled`); read the others' last check from
    the bindings loaded with ``registry`` without calling the service. ``report.provisioned`` names the kinds that
    went through provisioning (their rows changed: read them again)."""
    now = timezone.now()
    admin = desired.admin_cluster(registry)
    items = []
    provisioned: list[str] = []
    called: list[str] = []
    fresh: dict[str, Binding | None] | None = None
    for kind in SERVICE_KINDS:
        binding = _loaded(registry, kind)
        if binding is not None and desired.settled(binding, now, admin):
            items.append(DependencyItem(kind, binding.status, binding.status_message, binding.whose_move))
            continue
        fresh = fresh if fresh is not None else service_bindings(registry)
        current = fresh[kind]
        items.append(_prepare_one(registry, current) if current is not None else _missing(kind))
        provisioned.append(kind)
        if current is not None and not (
            isinstance(current, CacheBinding) and current.mode == CacheMode.MANAGED
        ):
            called.append(kind)
    ingress = _loaded(registry, "ingress")
    certificate = _certificate_item(registry, ingress if isinstance(ingress, IngressBinding) else None)
    if certificate is not None:
        items.append(certificate)
    return DependencyReport(items, tuple(provisioned), tuple(called))


def _loaded(registry: Registry, relation: str) -> Binding | None:
    """The binding ``registry`` holds for ``relation`` (loaded with it, or read now); None when it has none."""
    try:
        binding: Binding = getattr(registry, relation)
    except ObjectDoesNotExist:
        return None
    return binding


def _prepare_one(registry: Registry, binding: Binding) -> DependencyItem:
    provider = provider_for(binding)
    try:
        try:
            provider.ensure(binding)
        finally:
            _save_provisioning(binding)
        if binding.rotation_requested_at is not None and binding.rotation_started_at is None:
            _start_rotation(registry, binding, provider)
        result = provider.check(binding)
        if result.repairable:
            log.info("repairing %s of %s: %s", binding.KIND, registry, result.message)
            try:
                provider.ensure(binding, reset_credentials=True)
            finally:
                _save_provisioning(binding)
            result = provider.check(binding)
    except DependencyError as error:
        result = error.as_result()
    _record(binding, result)
    if result.ok:
        _remember_provisioned(binding)
    return _item(binding.KIND, result)


def _remember_provisioned(binding: Binding) -> None:
    """Store what the binding was provisioned from, once provisioning and its check succeeded."""
    digest = desired.desired_hash(binding)
    if binding.provisioned_hash != digest:
        binding.provisioned_hash = digest
        binding.save(update_fields=["provisioned_hash"])


def _start_rotation(registry: Registry, binding: Binding, provider: ServiceProvider[Binding]) -> None:
    """Start a requested rotation; one the service cannot do is dropped (audited), a failing one retried later."""
    try:
        provider.rotate(binding)
    except RotationNotSupported as error:
        binding.rotation_requested_at = None
        _save_provisioning(binding, rotation=True)
        audit.record(
            "system",
            Via.SYSTEM,
            "rotation_refused",
            binding,
            registry=registry,
            changes={"kind": binding.KIND, "reason": error.message},
        )
        log.warning("rotation of %s for %s refused: %s", binding.KIND, registry, error.message)
        return
    binding.rotation_requested_at = None
    binding.rotation_started_at = timezone.now()
    _save_provisioning(binding, rotation=True)
    audit.record(
        "system", Via.SYSTEM, "rotation_started", binding, registry=registry, changes={"kind": binding.KIND}
    )


def check_dependencies(registry: Registry) -> DependencyReport:
    """Check database, cache and storage without changing them; record what was seen on each binding."""
    items = []
    for kind, binding in service_bindings(registry).items():
        if binding is None:
            items.append(_missing(kind))
            continue
        result = check_binding(binding)
        items.append(_item(kind, result))
    certificate = _certificate_item(registry)
    if certificate is not None:
        items.append(certificate)
    return DependencyReport(items)


def check_binding(binding: Binding) -> CheckResult:
    """Check one binding and record the result; one never provisioned keeps what provisioning last said of it."""
    has_credentials = bool(getattr(binding, "password", "") or getattr(binding, "secret_key", ""))
    if binding.provisioned_at is None and not has_credentials:
        if binding.last_checked_at is not None:
            return CheckResult(binding.status, binding.status_message, binding.whose_move)
        result = CheckResult(
            BindingStatus.UNKNOWN, "is not provisioned yet: the next reconcile provisions it."
        )
    else:
        try:
            result = provider_for(binding).check(binding)
        except DependencyError as error:
            result = error.as_result()
    _record(binding, result)
    return result


def complete_rotations(registry: Registry) -> list[str]:
    """Revoke the previous credentials of every rotation under way; return the kinds completed.

    Call it once the stack is Available at the current generation: every pod then runs with the new credentials.
    A revocation that fails leaves its rotation under way, to be completed by a later call. Completing a managed
    Redis rotation changes the rendered Redis configuration, so a reconcile is requested for it.
    """
    done = []
    for binding in service_bindings(registry).values():
        if binding is None or binding.rotation_started_at is None:
            continue
        try:
            provider_for(binding).revoke_previous(binding)
        except DependencyError as error:
            log.warning(
                "could not revoke the previous %s credential of %s: %s", binding.KIND, registry, error
            )
            continue
        binding.rotation_started_at = None
        _save_provisioning(binding)
        audit.record(
            "system",
            Via.SYSTEM,
            "rotation_completed",
            binding,
            registry=registry,
            changes={"kind": binding.KIND},
        )
        done.append(binding.KIND)
        if isinstance(binding, CacheBinding) and binding.mode == CacheMode.MANAGED:
            from provisioning.services.registries import request_reconcile

            request_reconcile(registry, RunTrigger.ACTION, operation="rotation")
    return done


PURGE_ORDER = ("storage", "cache", "database")
"""The bucket first: its emptiness is what may change between the checks and the purge, and it is checked again."""


def purge_dependencies(registry: Registry, force: bool = False) -> None:
    """Remove the registry's bucket, cache data, database and roles, once every precondition of every one holds.

    First every dependency is checked (reachable, this registry's own, used by nothing else, the bucket empty
    unless ``force``); when any check fails a DependencyError names each failed precondition, and nothing is
    removed. Then each is purged, checking its own preconditions again; a failure there is reported the same way,
    and calling again finishes what is left (each step tolerates what is already gone).
    """
    bindings = service_bindings(registry)
    ordered = [(kind, bindings[kind]) for kind in PURGE_ORDER if bindings.get(kind) is not None]
    refusals: list[tuple[str, DependencyError]] = []
    for kind, binding in ordered:
        assert binding is not None
        try:
            provider_for(binding).check_purge(binding, force=force)
        except DependencyError as error:
            refusals.append((kind, error))
            _record(binding, CheckResult(error.status, f"purge refused: {error.message}", error.whose_move))
    if refusals:
        _raise_for(refusals, "nothing was removed")
    failures: list[tuple[str, DependencyError]] = []
    for kind, binding in ordered:
        assert binding is not None
        try:
            provider_for(binding).purge(binding, force=force)
        except DependencyError as error:
            failures.append((kind, error))
            _record(binding, CheckResult(error.status, f"purge failed: {error.message}", error.whose_move))
            continue
        binding.rotation_requested_at = binding.rotation_started_at = None
        _save_provisioning(binding, rotation=True)
        _record(binding, CheckResult(BindingStatus.UNKNOWN, "purged: the data was removed."))
    if failures:
        _raise_for(failures, "purge again to finish")


def _raise_for(failures: list[tuple[str, DependencyError]], outcome: str) -> None:
    """One error naming every failure; unreachable wins (it is retried), else the first failure's kind."""
    worst = next((e for _, e in failures if e.status == BindingStatus.UNREACHABLE), failures[0][1])
    message = "; ".join(f"{kind}: {e.message.rstrip('.')}" for kind, e in failures) + f" ({outcome})."
    raise type(worst)(message, whose_move=worst.whose_move)
