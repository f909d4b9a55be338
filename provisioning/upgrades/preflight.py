"""Pre-flight of an upgrade: what must hold before anything changes, each check with what to do when it fails."""

from __future__ import annotations

from dataclasses import dataclass

from provisioning import catalogue
from provisioning.choices import CacheMode, ComponentKind, DesiredState, Phase, WhoseMove
from provisioning.models import Registry, Upgrade


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str
    whose_move: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "message": self.message, "whose_move": self.whose_move}


def preflight(registry: Registry, target: str) -> list[Check]:
    """Every check, passed or not: the target allowed, the registry Ready, its dependencies last seen reachable,
    its cluster's database backup recorded, no other upgrade under way."""
    checks = [_target(registry, target), _ready(registry)]
    checks += [_binding(kind, binding, registry) for kind, binding in _bindings(registry)]
    checks += [_backup(registry), _alone(registry)]
    return checks


def _target(registry: Registry, target: str) -> Check:
    refusal = catalogue.upgrade_refusal(registry.harbor_version, target)
    if refusal:
        return Check("target", False, refusal, WhoseMove.PROVIDER)
    return Check("target", True, f"Harbor {registry.harbor_version} → {target} is an allowed upgrade.")


def _ready(registry: Registry) -> Check:
    if registry.desired_state == DesiredState.RUNNING and registry.phase == Phase.READY:
        return Check("ready", True, f"{registry} is Ready.")
    problems = registry.problems()
    why = f" ({problems[0].get('message', '')})" if problems else ""
    return Check(
        "ready",
        False,
        f"{registry} is {registry.phase}, not Ready{why}: an upgrade starts only from a Ready registry. Fix that "
        "first, then upgrade.",
        WhoseMove.PROVIDER,
    )


def _bindings(registry: Registry) -> list[tuple[str, object]]:
    return [
        ("database", getattr(registry, "database", None)),
        ("cache", getattr(registry, "cache", None)),
        ("storage", getattr(registry, "storage", None)),
    ]


def _managed_cache(registry: Registry) -> Check:
    """A Redis the console runs in the namespace is not reachable from the console: its StatefulSet's readiness is
    what was observed of it."""
    name = "cache reachable"
    row = next((c for c in registry.components.all() if c.kind == ComponentKind.REDIS), None)
    if row is None or row.available is None:
        return Check(
            name,
            False,
            "Whether the managed Redis is ready is unknown: reconcile the registry first.",
            WhoseMove.PROVIDER,
        )
    if not row.available:
        return Check(name, False, f"The managed Redis is not ready ({row.message}).", WhoseMove.PROVIDER)
    return Check(name, True, "The managed Redis was ready when last observed.")


def _binding(kind: str, binding: object, registry: Registry) -> Check:
    name = f"{kind} reachable"
    if binding is None:
        return Check(name, False, f"The registry has no {kind} binding.", WhoseMove.PROVIDER)
    if kind == "cache" and getattr(binding, "mode", "") == CacheMode.MANAGED:
        return _managed_cache(registry)
    checked = getattr(binding, "last_checked_at", None)
    if checked is None:
        return Check(
            name,
            False,
            f"The {kind} has never been checked, so whether it is reachable is unknown: run its check (reconcile "
            "the registry) first.",
            WhoseMove.PROVIDER,
        )
    if not getattr(binding, "is_ok", False):
        message = getattr(binding, "status_message", "") or getattr(binding, "status", "")
        return Check(
            name,
            False,
            f"The {kind} was not reachable at its last check ({checked:%Y-%m-%d %H:%M} UTC: {message}).",
            getattr(binding, "whose_move", "") or WhoseMove.PROVIDER,
        )
    return Check(name, True, f"The {kind} was reachable at its last check ({checked:%Y-%m-%d %H:%M} UTC).")


def _backup(registry: Registry) -> Check:
    marker = registry.cluster.backup_marker.strip()
    if not marker:
        return Check(
            "database backup",
            False,
            f"Cluster {registry.cluster} records no database backup marker: the schema migration cannot be undone "
            "except from a backup. Record how its PostgreSQL is backed up (cluster setting 'Backup marker'), then "
            "upgrade.",
            WhoseMove.PROVIDER,
        )
    return Check("database backup", True, f"Database backup: {marker}")


def _alone(registry: Registry) -> Check:
    if Upgrade.objects.open().filter(registry_id=registry.pk).exists():
        return Check(
            "no other upgrade",
            False,
            f"{registry} is already being upgraded: follow that upgrade, or halt it first.",
            WhoseMove.PROVIDER,
        )
    return Check("no other upgrade", True, "No other upgrade is under way.")
