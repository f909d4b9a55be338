"""Rotating the credentials of a registry's external services, as an audited operation.

A rotation moves in three steps and survives a crash at any point, because each step is recorded on the binding:

1. here: the rotation is *requested* on each chosen binding, the registry's generation moves on (the credentials
   are part of the desired state) and a reconcile is queued;
2. the reconcile's ``prepare_dependencies`` *starts* it: the new credential is created at the service and stored,
   the previous one kept on the binding's ``previous_*`` fields and still valid; the Kubernetes Secret is rendered
   with the new one and the pods roll through their config-hash annotation;
3. once the stack is Available at that generation the reconciler calls ``complete_rotations``, which revokes the
   previous credential.

Nothing here talks to a service: a credential the service issues itself (an S3 access key) only exists once the
reconcile has asked for it, so every kind is created in step 2 the same way. No secret is ever written to the audit.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from provisioning import audit
from provisioning.choices import DesiredState, Phase, RunTrigger, StorageKind
from provisioning.models import Binding, CacheBinding, DatabaseBinding, ReconcileRun, Registry, StorageBinding
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import request_reconcile

ROTATABLE_KINDS = ("database", "cache", "storage")
BINDING_MODELS: dict[str, type[DatabaseBinding] | type[CacheBinding] | type[StorageBinding]] = {
    "database": DatabaseBinding,
    "cache": CacheBinding,
    "storage": StorageBinding,
}


def rotation_in_progress(binding: Binding) -> bool:
    return binding.rotation_requested_at is not None or binding.rotation_started_at is not None


def not_rotatable_reason(binding: Binding) -> str:
    """Why the console cannot rotate this binding's credential itself; empty when it can (as far as it knows)."""
    if binding.provisioned_at is None:
        return f"its {binding.KIND} is not provisioned yet"
    if isinstance(binding, StorageBinding):
        if binding.kind == StorageKind.SWIFT:
            return (
                "its Swift credentials are entered by staff: change them at the provider, then on the binding"
            )
        if not binding.iam_user:
            return (
                "its storage uses the cluster's shared S3 keys (the provider has no IAM): rotate them at the "
                "provider and update the cluster"
            )
    return ""


@transaction.atomic
def rotate_credentials(registry: Registry, kinds: list[str] | None, *, actor: Any, via: str) -> ReconcileRun:
    """Ask for new credentials for ``kinds`` (all the console can rotate when None); return the queued run.

    Refused (ActionRefused) for a deleted or suspended registry, an unknown kind, a binding the console cannot
    rotate, or when a rotation of this registry is already under way.
    """
    locked = Registry.objects.select_for_update().get(pk=registry.pk)
    if locked.desired_state == DesiredState.DELETED or locked.phase in (Phase.DELETED, Phase.PURGED):
        raise ActionRefused(
            f"{locked} is deleted: its credentials cannot be rotated.", code="registry_deleted"
        )
    if locked.desired_state == DesiredState.SUSPENDED:
        raise ActionRefused(
            f"{locked} is suspended: resume it first, since a rotation completes only once its pods have rolled.",
            code="registry_suspended",
        )
    unknown = sorted(set(kinds or []) - set(ROTATABLE_KINDS))
    if unknown:
        raise ActionRefused(
            f"Unknown credential kinds: {', '.join(unknown)}. Choose among {', '.join(ROTATABLE_KINDS)}.",
            code="unknown_kind",
            field="kinds",
            status=400,
        )
    bindings = {
        kind: BINDING_MODELS[kind].objects.select_for_update().filter(registry=locked).first()
        for kind in ROTATABLE_KINDS
    }
    busy = [kind for kind, b in bindings.items() if b is not None and rotation_in_progress(b)]
    if busy:
        raise ActionRefused(
            f"A rotation of {locked}'s {', '.join(busy)} credentials is already under way: it completes once the "
            "pods run with the new credentials; rotate again after that.",
            code="rotation_in_progress",
        )
    chosen, skipped = [], {}
    for kind in kinds or ROTATABLE_KINDS:
        binding = bindings[kind]
        reason = "it has no binding" if binding is None else not_rotatable_reason(binding)
        if reason:
            skipped[kind] = reason
        else:
            chosen.append(kind)
    if kinds and skipped:
        raise ActionRefused(
            "; ".join(f"{kind} cannot be rotated by the console: {why}" for kind, why in skipped.items())
            + ".",
            code="not_rotatable",
            field="kinds",
        )
    if not chosen:
        raise ActionRefused(
            f"{locked} has no credentials the console can rotate now: "
            + "; ".join(f"{kind}: {why}" for kind, why in skipped.items())
            + ".",
            code="not_rotatable",
        )
    now = timezone.now()
    for kind in chosen:
        binding = bindings[kind]
        assert binding is not None
        binding.rotation_requested_at = now
        binding.save(update_fields=["rotation_requested_at"])
    Registry.objects.filter(pk=locked.pk).update(generation=F("generation") + 1)
    locked.refresh_from_db(fields=["generation"])
    audit.record(
        actor,
        via,
        "rotate_credentials",
        locked,
        changes={"kinds": chosen, "skipped": skipped, "generation": locked.generation},
    )
    return request_reconcile(locked, RunTrigger.ACTION, actor=actor, operation="rotate_credentials")
