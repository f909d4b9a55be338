"""What a registry's page shows, gathered in a fixed number of queries: status, services, objects, runs, timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Prefetch
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse

from provisioning import catalogue
from provisioning.choices import BindingStatus, ResourceState, RunStatus
from provisioning.models import AuditEvent, Binding, Component, ReconcileRun, Registry
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
class BindingView:
    """One external service of a registry, with the facts support staff need and never a secret."""

    title: str
    binding: Binding | None
    facts: list[tuple[str, str]]

    @property
    def status(self) -> str:
        return self.binding.status if self.binding else BindingStatus.UNKNOWN

    @property
    def status_label(self) -> str:
        return self.binding.get_status_display() if self.binding else "Not set up"


def _binding(registry: Registry, relation: str) -> Any:
    try:
        return getattr(registry, relation)
    except ObjectDoesNotExist:
        return None


def _size(value: int | None) -> str:
    if value is None:
        return "—"
    return f"{value / 2**20:.0f} MiB"


def binding_views(registry: Registry) -> list[BindingView]:
    db, cache, storage, ingress = (_binding(registry, r) for r in BINDING_RELATIONS)
    views = [
        BindingView(
            "PostgreSQL database",
            db,
            [
                ("Database", f"{db.name} on {db.host or '(not provisioned yet)'}:{db.port}"),
                ("Role", db.username),
                ("TLS", db.sslmode),
                ("Server", db.server_version or "—"),
            ]
            if db
            else [],
        ),
        BindingView(
            "Redis",
            cache,
            [
                ("Kind", cache.get_mode_display()),
                (
                    "Endpoint",
                    f"{cache.host}:{cache.port}" if cache.host else "in the tenant namespace",
                ),
                ("Memory", f"{_size(cache.used_memory_bytes)} of {_size(cache.maxmemory_bytes)}"),
                ("Server", cache.server_version or "—"),
            ]
            if cache
            else [],
        ),
        BindingView(
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
            "Ingress and TLS",
            ingress,
            [
                ("Host", registry.hostname),
                ("Certificate", "ready" if ingress.certificate_ready else "not ready"),
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
    return views


def open_run(runs: list[ReconcileRun]) -> ReconcileRun | None:
    return next((run for run in runs if run.is_open), None)


def status_context(registry: Registry, runs: list[ReconcileRun] | None = None) -> dict[str, Any]:
    if runs is None:
        runs = list(registry.runs.select_related("requested_by")[:RUNS_SHOWN])
    current = open_run(runs)
    components = list(registry.components.all())
    return {
        "registry": registry,
        "components": components,
        "conditions": registry.conditions,
        "problems": registry.problems(),
        "bindings": binding_views(registry),
        "current_run": current,
        "settling": registry.phase in SETTLING_PHASES or current is not None,
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


def _run_entry(run: ReconcileRun) -> TimelineEntry:
    what = run.operation or run.get_trigger_display()
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
        title=f"Reconcile ({what}) {run.get_status_display().lower()}",
        detail=detail,
        who=run.requested_by.get_username() if run.requested_by else "system",
        tone=tone,
        url=reverse("provisioning:run-detail", args=[run.registry_id, run.pk]),
    )


def _event_entry(event: AuditEvent) -> TimelineEntry:
    phase_change = event.action == "phase" and "phase" in event.changes
    if phase_change:
        old, new = event.changes["phase"]
        title, detail, tone = f"Phase {old} → {new}", event.changes.get("reason", ""), "phase"
    else:
        changed = ", ".join(
            f"{field}: {value[0]} → {value[1]}" if isinstance(value, list) and len(value) == 2 else field
            for field, value in event.changes.items()
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
    entries = [_event_entry(e) for e in events] + [_run_entry(r) for r in runs]
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


def detail_context(request: HttpRequest, registry: Registry) -> dict[str, Any]:
    runs = list(registry.runs.select_related("requested_by")[:RUNS_SHOWN])
    events = list(AuditEvent.objects.filter(registry=registry)[:EVENTS_SHOWN])
    resources = list(registry.resources.all())
    watched = request.GET.get("run", "")
    watched_run = next((r for r in runs if str(r.pk) == watched), None) or open_run(runs)
    return {
        **status_context(registry, runs),
        "runs": runs,
        "watched_run": watched_run,
        "resources": resources,
        "drifted": [r for r in resources if r.state in (ResourceState.DRIFTED, ResourceState.MISSING)],
        "timeline": timeline(registry, runs, events),
        "operations": offered_operations(request.user, registry),
        "upgrade_targets": catalogue.upgrade_targets(registry.harbor_version),
    }
