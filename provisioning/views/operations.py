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
from django.conf import settings
from django.utils import timezone

from provisioning import catalogue
from provisioning.choices import DesiredState, Phase, Via
from provisioning.forms import ConfirmNameForm, PurgeForm, RotateForm, UpgradeForm
from provisioning.models import ReconcileRun, Registry
from provisioning.permissions import can
from provisioning.services import registries as service
from provisioning.services.registries import purge_allowed_at
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
    warning: Callable[[Registry], str] = lambda registry: ""
    """What doing it now would do beyond the usual (said on the confirmation page); empty when nothing."""
    refusal: Callable[[Registry], str] = lambda registry: ""
    """Why it cannot be done now, known before anything is typed; empty when it can."""

    def form_for(self, registry: Registry, data: Any) -> forms.Form | None:
        """The confirmation's form, its first field focused when the page opens."""
        if self.form is None:
            return None
        form = self.form(data, registry=registry)  # type: ignore[call-arg]
        first = next(iter(form.fields.values()), None)
        if first is not None:
            first.widget.attrs["autofocus"] = True
        return form


def _alive(registry: Registry) -> bool:
    return registry.desired_state != DesiredState.DELETED


def _mid_upgrade(registry: Registry) -> str:
    """Suspending while a new Harbor version rolls out: what happens to the upgrade."""
    rolling = registry.deployed_version and registry.deployed_version != registry.harbor_version
    if registry.phase != Phase.UPGRADING and not rolling:
        return ""
    running = f" (it still runs {registry.deployed_version} in part)" if registry.deployed_version else ""
    return (
        f"An upgrade to Harbor {registry.harbor_version} is under way{running}. Suspending now stops every "
        "component in the middle of that rollout: the registry stops answering at once, the database keeps what "
        f"Harbor {registry.harbor_version} already migrated, and the upgrade finishes when you resume the "
        "registry. To stay on a consistent version, let the upgrade finish first."
    )


def _purge_refusal(registry: Registry) -> str:
    allowed_at = purge_allowed_at(registry)
    if registry.phase == Phase.DELETED and allowed_at is not None and allowed_at > timezone.now():
        return (
            f"{registry}'s data is retained until {allowed_at:%Y-%m-%d %H:%M} UTC "
            f"({settings.PURGE_RETENTION_DAYS} days after deletion): purging becomes possible then."
        )
    return ""


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
            "Moves every component to a newer Harbor version in one rollout (each adds a new pod before it removes "
            "an old one); Harbor's core migrates the database when it starts. For a migration Job first, the "
            "components in Harbor's order with a readiness gate each and a rollback, upgrade step by step instead "
            "(the registry page's upgrade panel).",
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
            warning=_mid_upgrade,
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
            lambda r: r.phase == Phase.DELETED and not _purge_refusal(r),
            lambda r, data, user: service.purge(r, actor=user, via=Via.UI, force=bool(data.get("force"))),
            form=PurgeForm,
            tone="danger",
            refusal=_purge_refusal,
        ),
    )
}


def offered_operations(user: Any, registry: Registry) -> list[Operation]:
    """The operations to show as buttons: allowed for the user's role and meaningful in the registry's state."""
    return [op for op in OPERATIONS.values() if can(user, op.permission) and op.applies(registry)]
