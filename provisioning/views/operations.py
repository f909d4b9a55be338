"""The operations a person can run on a registry from its page: what each does, who may, when it applies, what it
asks for and which service function runs it.

Whether an operation is *offered* depends on the user's role (:func:`provisioning.permissions.can`) and on the
registry's state; the service function still decides, and its refusal is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms

from provisioning import catalogue
from provisioning.choices import DesiredState, Phase, Via
from provisioning.forms import ConfirmNameForm, PurgeForm, RotateForm, UpgradeForm
from provisioning.models import ReconcileRun, Registry
from provisioning.permissions import can
from provisioning.services import registries as service
from provisioning.services.rotation import rotate_credentials

Perform = Callable[[Registry, dict[str, Any], Any], ReconcileRun]
""":func:`provisioning.services` call of an operation: ``(registry, cleaned form data, user) -> run``."""


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    permission: str
    explanation: str
    applies: Callable[[Registry], bool]
    perform: Perform
    form: type[forms.Form] | None = None
    """What the confirmation asks for (built with ``registry=``); None for a plain confirmation."""
    tone: str = ""

    def form_for(self, registry: Registry, data: Any) -> forms.Form | None:
        return self.form(data, registry=registry) if self.form is not None else None  # type: ignore[call-arg]


def _alive(registry: Registry) -> bool:
    return registry.desired_state != DesiredState.DELETED


OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "reconcile",
            "Reconcile now",
            "reconcile",
            "Compares every object of the stack with what it should be, applies what differs and re-reads the "
            "state of the workloads and services. Nothing changes when the stack is already right.",
            lambda r: r.phase != Phase.PURGED,
            lambda r, data, user: service.reconcile_now(r, actor=user, via=Via.UI),
            tone="primary",
        ),
        Operation(
            "upgrade",
            "Upgrade Harbor",
            "upgrade",
            "Rolls the registry's components to a newer Harbor version, one after the other. Harbor migrates its "
            "database on start; the registry stays available while the new pods come up.",
            lambda r: _alive(r) and bool(catalogue.upgrade_targets(r.harbor_version)),
            lambda r, data, user: service.upgrade(r, data["target_version"], actor=user, via=Via.UI),
            form=UpgradeForm,
        ),
        Operation(
            "rotate",
            "Rotate credentials",
            "rotate",
            "Generates new credentials, updates the Kubernetes Secrets and rolls the pods; the old credentials are "
            "revoked only once the rollout is Ready.",
            _alive,
            lambda r, data, user: rotate_credentials(r, data["kinds"], actor=user, via=Via.UI),
            form=RotateForm,
        ),
        Operation(
            "suspend",
            "Suspend",
            "suspend",
            "Scales every component to zero: the registry stops answering. Its database, cache and images are kept; "
            "resume brings it back as it was.",
            lambda r: r.desired_state == DesiredState.RUNNING,
            lambda r, data, user: service.suspend(r, actor=user, via=Via.UI),
        ),
        Operation(
            "resume",
            "Resume",
            "resume",
            "Starts the suspended registry's components again.",
            lambda r: r.desired_state == DesiredState.SUSPENDED,
            lambda r, data, user: service.resume(r, actor=user, via=Via.UI),
            tone="primary",
        ),
        Operation(
            "delete",
            "Delete",
            "delete",
            "Removes every Kubernetes object of the registry: it stops answering at once. Its database and its bucket "
            "are kept for the retention period, until an administrator purges them. This cannot be undone.",
            _alive,
            lambda r, data, user: service.delete(r, actor=user, via=Via.UI),
            form=ConfirmNameForm,
            tone="danger",
        ),
        Operation(
            "purge",
            "Purge data",
            "purge",
            "Drops the deleted registry's database, Redis user and bucket for good. The customer's images are lost. "
            "This cannot be undone.",
            lambda r: r.phase == Phase.DELETED,
            lambda r, data, user: service.purge(r, actor=user, via=Via.UI, force=bool(data.get("force"))),
            form=PurgeForm,
            tone="danger",
        ),
    )
}


def offered_operations(user: Any, registry: Registry) -> list[Operation]:
    """The operations to show as buttons: allowed for the user's role and meaningful in the registry's state."""
    return [op for op in OPERATIONS.values() if can(user, op.permission) and op.applies(registry)]
