"""The operations a person can run on a registry from its page: what each does, who may, and when it applies.

Whether an operation is *offered* depends on the user's role (:func:`provisioning.permissions.can`) and on the
registry's state; the service function still decides, and its refusal is shown as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from provisioning import catalogue
from provisioning.choices import DesiredState, Phase
from provisioning.models import Registry
from provisioning.permissions import can


@dataclass(frozen=True)
class Operation:
    name: str
    label: str
    permission: str
    explanation: str
    applies: Callable[[Registry], bool]
    tone: str = ""
    confirm_with_name: bool = False


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
            tone="primary",
        ),
        Operation(
            "upgrade",
            "Upgrade Harbor",
            "upgrade",
            "Rolls the registry's components to a newer Harbor version, one after the other. Harbor migrates its "
            "database on start; the registry stays available while the new pods come up.",
            lambda r: _alive(r) and bool(catalogue.upgrade_targets(r.harbor_version)),
        ),
        Operation(
            "rotate",
            "Rotate credentials",
            "rotate",
            "Generates new credentials, updates the Kubernetes Secrets and rolls the pods; the old credentials are "
            "revoked only once the rollout is Ready.",
            _alive,
        ),
        Operation(
            "suspend",
            "Suspend",
            "suspend",
            "Scales every component to zero: the registry stops answering. Its database, cache and images are kept; "
            "resume brings it back as it was.",
            lambda r: r.desired_state == DesiredState.RUNNING,
        ),
        Operation(
            "resume",
            "Resume",
            "resume",
            "Starts the suspended registry's components again.",
            lambda r: r.desired_state == DesiredState.SUSPENDED,
            tone="primary",
        ),
        Operation(
            "delete",
            "Delete",
            "delete",
            "Removes every Kubernetes object of the registry: it stops answering at once. Its database and its bucket "
            "are kept for the retention period, until an administrator purges them. This cannot be undone.",
            _alive,
            tone="danger",
            confirm_with_name=True,
        ),
        Operation(
            "purge",
            "Purge data",
            "purge",
            "Drops the deleted registry's database, Redis user and bucket for good. The customer's images are lost. "
            "This cannot be undone.",
            lambda r: r.phase == Phase.DELETED,
            tone="danger",
            confirm_with_name=True,
        ),
    )
}


def offered_operations(user: Any, registry: Registry) -> list[Operation]:
    """The operations to show as buttons: allowed for the user's role and meaningful in the registry's state."""
    return [op for op in OPERATIONS.values() if can(user, op.permission) and op.applies(registry)]
