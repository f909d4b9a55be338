"""What a registry's page shows, gathered in a fixed number of queries: status, services, objects, runs, timeline.

The timeline merges audit events, reconcile runs and phase changes by time. A phase change is read from an audit
event with ``action="phase"`` and ``changes={"phase": [old, new], "reason": ...}`` when the engine records one;
the current phase and its start (``Registry.phase_since``) are always shown.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone

from provisioning import audit
from provisioning.choices import (
    BindingStatus,
    CacheMode,
    ComponentKind,
    DesiredState,
    Phase,
    ResourceState,
    RunStatus,
)
from provisioning.health import Source, verdict_of, visible_problems
from provisioning.models import AuditEvent, Binding, Component, ReconcileRun, Registry
from provisioning.services.registries import purge_allowed_at
from provisioning.templatetags.console import SETTLING_PHASES
from provisioning.views.operations import offered_operations

RUNS_SHOWN = 15
EVENTS_SHOWN = 30
TIMELINE_SHOWN = 40
BINDING_RELATIONS = ("database", "cache", "storage", "ingress")


def registry_for_page(pk: int) -> Registry:
    return get_object_or_404(
        Registry.objects.with_related()
        .select_related(*BINDING_RELATIONS)
        .prefetch_related(Prefetch("components", queryset=Component.objects.order_by("kind"))),
        pk=pk,
    )


def run_for_status(registry_pk: int, run_pk: int) -> ReconcileRun:
    return get_object_or_404(
        ReconcileRun.objects.select_related("registry__tenant", "requested_by"),
        pk=run_pk,
        registry_id=registry_pk,
    )


@dataclass(frozen=True)
class Standing:
    """What is true of a service while the registry is not running, instead of its last check."""

    status: str
    label: str
    note: str


@dataclass(frozen=True)
class BindingView:
    """One external service of a registry, with the facts support staff need and never a secret."""

    key: str
    title: str
    binding: Binding | None
    facts: list[tuple[str, str]]
    standing: Standing | None = None
    """Set when the registry is suspended or deleted: its last check no longer says what is true."""

    @property
    def status(self) -> str:
        if self.standing is not None:
            return self.standing.status
        return self.binding.status if self.binding else BindingStatus.UNKNOWN

    @property
    def stopped_note(self) -> str:
        return self.standing.note if self.standing is not None else ""

    @property
    def rotation(self) -> str:
        """Where a credential rotation of this service stands, in words; empty when none is under way."""
        binding = self.binding
        if binding is None or self.standing is not None:
            return ""
        if binding.rotation_started_at is not None:
            return "Rotation under way: the new credential is live; the old one is revoked once the pods are Ready."
        if binding.rotation_requested_at is not None:
            return "Rotation requested: the next reconciliation creates the new credential."
        return ""

    @property
    def status_label(self) -> str:
        if self.standing is not None:
            return self.standing.label
        return self.binding.get_status_display() if self.binding else "Not set up"


def _binding(registry: Registry, relation: str) -> Any:
    try:
        return getattr(registry, relation)
    except ObjectDoesNotExist:
        return None


def _memory(used: int | None, limit: int | None) -> str:
    if used is None:
        return "not measured yet"
    text = f"{used / 2**20:.0f} MiB"
    return f"{text} of {limit / 2**20:.0f} MiB" if limit else text


KEPT = Standing("retained", "Kept until purge", "")


def _managed_redis(registry: Registry, cache: Any) -> Standing | None:
    """A running managed Redis as its pod was last seen, when that is newer than the last dependency check."""
    redis = next((c for c in registry.components.all() if c.kind == ComponentKind.REDIS), None)
    if redis is None or redis.observed_at is None:
        return None
    if cache.last_checked_at is not None and cache.last_checked_at >= redis.observed_at:
        return None
    pods = "pod" if redis.desired_replicas == 1 else "pods"
    ready = f"{redis.ready_replicas} of {redis.desired_replicas} {pods} ready"
    if redis.available:
        return Standing(BindingStatus.OK, "OK", f"The managed Redis is available ({ready}).")
    return Standing(
        BindingStatus.DEGRADED, "Degraded", redis.message or f"The managed Redis is starting ({ready})."
    )


def standing(registry: Registry, key: str, cache: Any) -> Standing | None:
    """What is true of a service now when its last check does not say it: the registry is suspended or deleted,
    or a managed Redis was seen by reconciliation after its last check. None: the last check says it."""
    managed_cache = cache is not None and cache.mode == CacheMode.MANAGED
    if registry.phase == Phase.PURGED:
        return Standing("removed", "Purged", "Purged with the registry: nothing of it is left.")
    if registry.desired_state == DesiredState.DELETED:
        gone = registry.phase == Phase.DELETED
        removed = "removed with the stack" if gone else "being removed with the stack"
        notes = {
            "database": "The registry is deleted: its database is kept, untouched, until it is purged.",
            "storage": "The registry is deleted: its bucket and the images in it are kept until it is purged.",
            "ingress": f"The ingress and the certificate were {removed}: nothing answers at {registry.hostname}.",
        }
        if key == "cache":
            if managed_cache:
                return Standing(
                    "removed", "Removed" if gone else "Removing", f"The managed Redis was {removed}."
                )
            return Standing(KEPT.status, KEPT.label, "The Redis user is kept until the registry is purged.")
        if key == "ingress":
            return Standing("removed", "Removed" if gone else "Removing", notes[key])
        return Standing(KEPT.status, KEPT.label, notes[key])
    if registry.desired_state == DesiredState.SUSPENDED:
        if key == "cache" and managed_cache:
            return Standing(
                "stopped", "Stopped", "Scaled to zero with the registry; its data stays on its volume."
            )
        if key == "ingress":
            return Standing(
                "stopped",
                "Not serving",
                f"The registry is suspended: every workload is scaled to zero, so requests to "
                f"{registry.hostname} fail until it is resumed.",
            )
        return None
    if key == "cache" and managed_cache:
        seen = _managed_redis(registry, cache)
        if seen is not None:
            return seen
    binding = cache if key == "cache" else _binding(registry, key)
    if key in SERVICE_KEYS and binding is not None and binding.check_is_stale():
        return stale_check(binding)
    return None


SERVICE_KEYS = frozenset({"database", "cache", "storage"})


def stale_check(binding: Any) -> Standing:
    """A last check too old (or missing) to say anything now: Unknown, never the OK it may have found."""
    if binding.last_checked_at is None:
        note = "Not checked yet: the next dependency check or reconciliation looks at it."
    else:
        note = (
            f"Unknown: the last check ({binding.get_status_display()}: {binding.status_message or 'no message'}) "
            "is older than two periodic dependency checks, so it may no longer be true; the next check or "
            "reconciliation looks again."
        )
    return Standing(BindingStatus.UNKNOWN, "Unknown", note)


def _certificate(registry: Registry, ingress: Any) -> str:
    if registry.desired_state == DesiredState.DELETED:
        return "removed with the stack"
    if not ingress.certificate_ready:
        return "not ready"
    return "issued (not serving: suspended)" if registry.desired_state == DesiredState.SUSPENDED else "ready"


def binding_views(registry: Registry) -> list[BindingView]:
    db, cache, storage, ingress = (_binding(registry, r) for r in BINDING_RELATIONS)
    views = [
        BindingView(
            "database",
            "PostgreSQL database",
            db,
            [
                ("Database", db.name or "—"),
                ("Host", f"{db.host}:{db.port}" if db.host else "not provisioned yet"),
                ("Role", db.username or "—"),
                ("TLS", db.sslmode),
                ("Server", db.server_version or "—"),
            ]
            if db
            else [],
        ),
        BindingView(
            "cache",
            "Redis",
            cache,
            [
                ("Kind", cache.get_mode_display()),
                (
                    "Endpoint",
                    f"{cache.host}:{cache.port}" if cache.host else "in the tenant namespace",
                ),
                ("Memory", _memory(cache.used_memory_bytes, cache.maxmemory_bytes)),
                ("Server", cache.server_version or "—"),
            ]
            if cache
            else [],
        ),
        BindingView(
            "storage",
            "Object storage",
            storage,
            [
                ("Kind", storage.get_kind_display()),
                ("Bucket", storage.bucket or "—"),
                ("Endpoint", storage.endpoint or "provider default"),
                ("Region", storage.region or "—"),
            ]
            if storage
            else [],
        ),
        BindingView(
            "ingress",
            "Ingress and TLS",
            ingress,
            [
                ("Host", registry.hostname),
                ("Certificate", _certificate(registry, ingress)),
                (
                    "Expires",
                    f"{ingress.certificate_not_after:%Y-%m-%d %H:%M} UTC"
                    if ingress.certificate_not_after
                    else "—",
                ),
                ("TLS secret", ingress.tls_secret_name or "—"),
            ]
            if ingress
            else [],
        ),
    ]
    return [
        replace(view, standing=standing(registry, view.key, cache)) if view.binding else view
        for view in views
    ]


def open_run(runs: list[ReconcileRun]) -> ReconcileRun | None:
    return next((run for run in runs if run.is_open), None)


def open_runs(registry: Registry) -> list[ReconcileRun]:
    return list(registry.runs.select_related("requested_by")[:RUNS_SHOWN])


def status_context(registry: Registry, runs: list[ReconcileRun] | None = None) -> dict[str, Any]:
    """The live part's status: phase, health verdict, problems, components, conditions, external services."""
    current = open_run(open_runs(registry) if runs is None else runs)
    verdict = verdict_of(registry)
    return {
        "registry": registry,
        "verdict": verdict,
        "components": list(registry.components.all()),
        "stack_stopped": registry.desired_state != DesiredState.RUNNING,
        "conditions": registry.conditions,
        "problems": visible_problems(registry),
        "other_reasons": [r for r in verdict.reasons if r.source != Source.CONSOLE],
        "bindings": binding_views(registry),
        "current_run": current,
        "settling": registry.phase in SETTLING_PHASES or current is not None,
    }


def live_context(
    request: HttpRequest, registry: Registry, runs: list[ReconcileRun] | None = None
) -> dict[str, Any]:
    """Everything the page's live region shows: header, actions offered now, facts and status."""
    allowed_at = purge_allowed_at(registry)
    return {
        **status_context(registry, runs),
        "operations": offered_operations(request.user, registry),
        "live_url": reverse("provisioning:registry-status", args=[registry.pk]),
        "purge_allowed_at": allowed_at if registry.phase == Phase.DELETED else None,
        "purge_possible": allowed_at is not None and allowed_at <= timezone.now(),
    }


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    title: str
    detail: str
    who: str
    tone: str
    url: str = ""


OPERATION_NAMES = {
    "reconcile": "reconcile now",
    "rotate_credentials": "credential rotation",
}


def _run_entry(run: ReconcileRun) -> TimelineEntry:
    what = OPERATION_NAMES.get(run.operation, run.operation) or run.get_trigger_display().lower()
    if run.status == RunStatus.FAILED:
        detail = f"{run.error_class or 'error'}: {run.error_message}"
        tone = "bad"
    elif run.status == RunStatus.SUCCEEDED:
        detail = (
            f"{run.created} created, {run.updated} updated, {run.unchanged} unchanged, {run.deleted} deleted"
        )
        tone = "ok"
    else:
        detail, tone = "", "info"
    return TimelineEntry(
        at=run.finished_at or run.started_at or run.requested_at,
        kind="run",
        title=f"Run #{run.pk} ({what}) {run.get_status_display().lower()}",
        detail=detail,
        who=run.requested_by.get_username() if run.requested_by else "system",
        tone=tone,
        url=reverse("provisioning:run-detail", args=[run.registry_id, run.pk]),
    )


def _event_entry(event: AuditEvent, readable: list[tuple[str, Any]]) -> TimelineEntry:
    phase_change = event.action == "phase" and "phase" in event.changes
    if phase_change:
        old, new = event.changes["phase"]
        title, detail, tone = f"Phase {old} → {new}", event.changes.get("reason", ""), "phase"
    else:
        changed = ", ".join(
            f"{field}: {value[0]} → {value[1]}"
            if isinstance(value, list) and len(value) == 2
            else f"{field}: {value}"
            for field, value in readable
            if value not in (None, "", [], {})
        )
        title, detail, tone = f"{event.action.capitalize()} ({event.get_via_display()})", changed, "audit"
    return TimelineEntry(
        at=event.at,
        kind="phase" if phase_change else "audit",
        title=title,
        detail=detail,
        who=event.actor_name,
        tone=tone,
    )


def timeline(registry: Registry, runs: list[ReconcileRun], events: list[AuditEvent]) -> list[TimelineEntry]:
    """Audit events, phase changes and runs of the registry, newest first."""
    readable = audit.readable_changes(events)
    entries = [_event_entry(e, readable[e.pk]) for e in events] + [_run_entry(r) for r in runs]
    entries.append(
        TimelineEntry(
            at=registry.phase_since,
            kind="phase",
            title=f"Phase is {registry.phase}",
            detail="",
            who="system",
            tone="phase",
        )
    )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:TIMELINE_SHOWN]


def activity_context(registry: Registry, runs: list[ReconcileRun] | None = None) -> dict[str, Any]:
    """What happened to the registry: its Kubernetes objects, its runs and its timeline."""
    runs = open_runs(registry) if runs is None else runs
    events = list(AuditEvent.objects.filter(registry=registry)[:EVENTS_SHOWN])
    resources = list(registry.resources.defer("manifest"))
    counts = Counter(r.state for r in resources)
    return {
        "registry": registry,
        "runs": runs,
        "resources": resources,
        "resource_summary": [
            (state, f"{label}: {counts[state]}") for state, label in ResourceState.choices if counts[state]
        ],
        "drifted": [r for r in resources if r.state in (ResourceState.DRIFTED, ResourceState.MISSING)],
        "timeline": timeline(registry, runs, events),
    }


def detail_context(request: HttpRequest, registry: Registry) -> dict[str, Any]:
    runs = open_runs(registry)
    watched = request.GET.get("run", "")
    watched_run = next((r for r in runs if str(r.pk) == watched), None) or open_run(runs)
    return {
        **live_context(request, registry, runs),
        **activity_context(registry, runs),
        "watched_run": watched_run,
    }
