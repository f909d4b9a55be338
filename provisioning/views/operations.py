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
from django.contrib import messages
from django.urls import reverse
from django.utils import timezone

from provisioning import catalogue
from provisioning.choices import DesiredState, Phase, Via
from provisioning.forms import ConfirmNameForm, PurgeForm, RotateForm, UpgradeForm
from provisioning.models import ReconcileRun, Registry, Upgrade
from provisioning.permissions import can
from provisioning.services import registries as service
from provisioning.services.registries import purge_allowed_at
from provisioning.services.rotation import rotate_credentials

Perform = Callable[[Registry, dict[str, Any], Any], ReconcileRun | Upgrade]
""":func:`provisioning.services` call of an operation: ``(registry, cleaned form data, user) -> run`` (the upgrade
returns the step-by-step Upgrade it started, except for a registry never deployed)."""


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

    def outcome(self, registry: Registry, result: ReconcileRun | Upgrade) -> tuple[int, str, str]:
        """(message level, message, where to go) once it was done: an upgrade's own page, where it goes on step by
        step (a halted pre-flight says why), else the run's progress on the registry's page."""
        if isinstance(result, Upgrade):
            url = reverse("provisioning:registry-upgrade", args=[registry.pk])
            if not result.is_open:
                return messages.ERROR, result.reason, url
            return (
                messages.SUCCESS,
                f"Upgrade of {registry} to Harbor {result.to_version} started: pre-flight passed, the schema "
                "migration Job runs next, then each component in turn.",
                url,
            )
        url = reverse("provisioning:registry-detail", args=[registry.pk])
        return messages.SUCCESS, f"{self.label}: requested for {registry}.", f"{url}?run={result.pk}#progress"

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


def _in_place(registry: Registry) -> str:
    """An upgrade of a registry never deployed: what happens instead of the steps."""
    if not service.never_deployed(registry):
        return ""
    return (
        f"{registry} was never deployed (it never was Ready): no Harbor has run on its database, so there is nothing "
        "to migrate. Its version changes in place and the next reconcile deploys the new version at once."
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
            "Upgrades step by step: a pre-flight first (the registry Ready, its database, cache and storage "
            "reachable, a database backup recorded for its cluster, the version path allowed; if a check fails "
            "nothing changes), then Harbor's schema migration runs once as a Kubernetes migration Job before the "
            "new core starts, then core, job service, registry, portal, Trivy and the exporter move one after the "
            "other, each Ready before the next. It halts with the reason if a step fails or its time budget runs "
            "out; the images can be rolled back until the migration has run. You follow it on the upgrade's page. "
            "A registry never deployed (never Ready) has nothing to migrate: its version simply changes.",
            lambda r: _alive(r) and bool(catalogue.upgrade_targets(r.harbor_version)),
            lambda r, data, user: service.upgrade(r, data["target_version"], actor=user, via=Via.UI),
            form=UpgradeForm,
            warning=_in_place,
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
