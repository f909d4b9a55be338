"""Adapters to the provider's shared services (PostgreSQL, Redis, object storage); no Kubernetes in here.

The reconciler calls only the four functions below; each takes a registry row and reads/writes its binding rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioning.choices import BindingStatus, WhoseMove
from provisioning.models import Registry


@dataclass(frozen=True)
class DependencyItem:
    """One dependency's observed state, as the reconciler puts it into the DependenciesReady condition."""

    kind: str
    status: str
    message: str
    whose_move: str = WhoseMove.NONE

    @property
    def ok(self) -> bool:
        return self.status == BindingStatus.OK


@dataclass(frozen=True)
class DependencyReport:
    """The state of every dependency of one registry: ``ready`` only when none of them is failing."""

    items: list[DependencyItem] = field(default_factory=list)

    @property
    def failing(self) -> list[DependencyItem]:
        return [item for item in self.items if not item.ok]

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def message(self) -> str:
        if self.ready:
            return "All dependencies are ready: " + ", ".join(item.kind for item in self.items) + "."
        return "; ".join(f"{item.kind} {item.message}" for item in self.failing)

    @property
    def whose_move(self) -> str:
        moves = {item.whose_move for item in self.failing}
        for move in (WhoseMove.PROVIDER, WhoseMove.CUSTOMER, WhoseMove.TRANSIENT):
            if move in moves:
                return move
        return WhoseMove.NONE


def prepare_dependencies(registry: Registry) -> DependencyReport:
    """Provision (idempotently) and check the registry's database, cache and storage."""
    return DependencyReport()


def check_dependencies(registry: Registry) -> DependencyReport:
    """Check the registry's dependencies without changing them."""
    return DependencyReport()


def complete_rotations(registry: Registry) -> list[str]:
    """Revoke the previous credentials of rotations whose rollout is done; return the kinds completed."""
    return []


def purge_dependencies(registry: Registry, force: bool = False) -> None:
    """Remove the registry's database and role, cache user/data and bucket (when empty, or when forced)."""


__all__ = [
    "DependencyItem",
    "DependencyReport",
    "check_dependencies",
    "complete_rotations",
    "prepare_dependencies",
    "purge_dependencies",
]
