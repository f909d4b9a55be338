"""The calls the rest of the console makes when a registry changes; each writes its event(s) via :mod:`.emit`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provisioning.events import types
from provisioning.events.emit import Pending, emit


def registry_action(registry_id: int, action: str, *, actor: str, via: str, changes: dict[str, Any]) -> None:
    """An audited action on a registry (already masked by the audit): its event, when the action has one."""
    name = types.ACTION_TYPES.get(action)
    if name is not None:
        emit([Pending(registry_id, name, {"action": action, "actor": actor, "via": via, "changes": changes})])


def registry_actions(registry_ids: Iterable[int], action: str, *, actor: str, via: str) -> None:
    """The same action on many registries at once (bulk operations): one write whatever their number."""
    name = types.ACTION_TYPES[action]
    data = {"action": action, "actor": actor, "via": via, "changes": {}}
    emit([Pending(registry_id, name, data) for registry_id in registry_ids])


def phase_changed(registry_id: int, old: str, new: str, *, run_id: int | None = None) -> None:
    if old == new:
        return
    pending = [Pending(registry_id, types.PHASE_CHANGED, {"from": old, "to": new, "run": run_id})]
    if new == "Purged":
        pending.append(Pending(registry_id, types.PURGED, {"run": run_id}))
    emit(pending)


QUIET_TRIGGERS = ("sweep", "follow_up")
"""Runs the console starts by itself: reported only when they changed something or failed, so that a sweep of a
converged fleet does not send an event per registry every few minutes."""


def worth_reporting(run: Any) -> bool:
    changed = (run.created or 0) + (run.updated or 0) + (run.deleted or 0)
    return run.trigger not in QUIET_TRIGGERS or run.status == "failed" or changed > 0


def run_finished(run: Any) -> None:
    """A reconcile (or purge) run ended: its outcome, as the run resource shows it."""
    if not worth_reporting(run):
        return
    data = {
        "run": run.pk,
        "operation": run.operation,
        "trigger": run.trigger,
        "status": run.status,
        "generation": run.generation,
        "error_class": run.error_class,
        "error_message": run.error_message,
        "whose_move": run.whose_move,
    }
    emit([Pending(run.registry_id, types.RUN_FINISHED, data)])
