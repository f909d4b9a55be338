"""Template helpers of the web console: the badges and words that turn states into something a person reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from provisioning.choices import (
    BindingStatus,
    ConditionType,
    DesiredState,
    Phase,
    ResourceState,
    RunStatus,
    WhoseMove,
)
from provisioning.models import Registry

register = template.Library()

PHASE_TONE: dict[str, str] = {
    Phase.READY: "ok",
    Phase.DEGRADED: "warn",
    Phase.FAILED: "bad",
    Phase.PENDING: "info",
    Phase.PROVISIONING: "info",
    Phase.UPGRADING: "info",
    Phase.DELETING: "info",
    Phase.SUSPENDED: "muted",
    Phase.DELETED: "muted",
    Phase.PURGED: "muted",
}
SETTLING_PHASES: frozenset[str] = frozenset(
    {Phase.PENDING, Phase.PROVISIONING, Phase.UPGRADING, Phase.DELETING}
)
"""Phases a registry passes through on its own: pages watching it keep polling while it is in one."""

PHASE_MEANING: dict[str, str] = {
    Phase.PENDING: "Waiting for its first reconciliation.",
    Phase.PROVISIONING: "Its objects are being created and its workloads started.",
    Phase.READY: "Every component is available and every dependency answers.",
    Phase.DEGRADED: "It runs, but something is wrong: see the conditions.",
    Phase.UPGRADING: "A new Harbor version is rolling out.",
    Phase.SUSPENDED: "Stopped on request; its data is kept.",
    Phase.FAILED: "A permanent error stopped reconciliation: a person must act.",
    Phase.DELETING: "Its objects are being removed; its data is kept.",
    Phase.DELETED: "Its stack is gone; its data is kept until a purge.",
    Phase.PURGED: "Its stack and its data are gone for good.",
}

WHOSE_MOVE_TEXT: dict[str, tuple[str, str]] = {
    WhoseMove.CUSTOMER: ("customer", "Customer's move"),
    WhoseMove.PROVIDER: ("provider", "Provider's move"),
    WhoseMove.TRANSIENT: ("transient", "Transient — retried automatically"),
}

BINDING_TONE: dict[str, str] = {
    BindingStatus.OK: "ok",
    BindingStatus.DEGRADED: "warn",
    BindingStatus.UNREACHABLE: "bad",
    BindingStatus.MISCONFIGURED: "bad",
    BindingStatus.UNKNOWN: "muted",
}
RUN_TONE: dict[str, str] = {
    RunStatus.QUEUED: "info",
    RunStatus.RUNNING: "info",
    RunStatus.SUCCEEDED: "ok",
    RunStatus.FAILED: "bad",
    RunStatus.SKIPPED: "muted",
}
RESOURCE_TONE: dict[str, str] = {
    ResourceState.READY: "ok",
    ResourceState.APPLIED: "ok",
    ResourceState.NOT_READY: "warn",
    ResourceState.MISSING: "bad",
    ResourceState.DRIFTED: "warn",
}
CONDITION_TITLES = {
    "DependenciesReady": "Dependencies",
    "ResourcesApplied": "Kubernetes objects",
    "Available": "Availability",
    "Progressing": "Rollout",
    "Degraded": "Degradation",
}


def _badge(tone: str, text: str, title: str = "") -> SafeString:
    if title:
        return format_html('<span class="badge badge-{}" title="{}">{}</span>', tone, title, text)
    return format_html('<span class="badge badge-{}">{}</span>', tone, text)


@register.simple_tag
def phase_badge(phase: str) -> SafeString:
    return _badge(PHASE_TONE.get(phase, "muted"), phase, PHASE_MEANING.get(phase, ""))


@register.filter
def phase_meaning(phase: str) -> str:
    return PHASE_MEANING.get(phase, "")


@register.filter
def is_settling(phase: str) -> bool:
    return phase in SETTLING_PHASES


@register.simple_tag
def whose_move_badge(whose_move: str) -> SafeString:
    tone, text = WHOSE_MOVE_TEXT.get(whose_move, ("muted", ""))
    if not text:
        return mark_safe("")
    return _badge(f"move-{tone}", text)


@register.simple_tag
def binding_badge(status: str, label: str = "") -> SafeString:
    return _badge(BINDING_TONE.get(status, "muted"), label or status)


@register.simple_tag
def run_badge(status: str, label: str = "") -> SafeString:
    return _badge(RUN_TONE.get(status, "muted"), label or status)


@register.simple_tag
def resource_badge(state: str, label: str = "") -> SafeString:
    return _badge(RESOURCE_TONE.get(state, "muted"), label or state)


@register.filter
def condition_title(type_: str) -> str:
    return CONDITION_TITLES.get(type_, type_)


@register.filter
def condition_since(condition: dict[str, Any]) -> datetime | None:
    """When the condition last changed status, whichever spelling the engine stored it under."""
    for key in ("last_transition_time", "lastTransitionTime", "since"):
        value = condition.get(key)
        if isinstance(value, datetime):
            return value
        if isinstance(value, str) and value:
            return parse_datetime(value)
    return None


@register.filter
def condition_is_problem(condition: dict[str, Any]) -> bool:
    if condition.get("type") == "Degraded":
        return condition.get("status") == "True"
    if condition.get("type") == "Progressing":
        return False
    return condition.get("status") != "True"


def visible_problems(registry: Registry) -> list[dict[str, Any]]:
    """What a person should read: the registry's problems, minus being down when it was asked to be down."""
    stopped = registry.desired_state in (DesiredState.SUSPENDED, DesiredState.DELETED)
    return [
        c
        for c in registry.problems()
        if not (stopped and c.get("type") == ConditionType.AVAILABLE and not c.get("whose_move"))
    ]


@register.filter
def duration_ms(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1000:
        return f"{value:.0f} ms"
    seconds = value / 1000
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"
