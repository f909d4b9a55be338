"""Template helpers of the web console: the badges and words that turn states into something a person reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil

from provisioning.choices import (
    BindingStatus,
    ClusterHealth,
    Phase,
    ResourceState,
    RunStatus,
    WhoseMove,
)
from provisioning.health import Health, Verdict
from provisioning.views.live import DIGEST_HEADER, DIGEST_MARK

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
def condition_tone(condition: dict[str, Any]) -> str:
    """How a condition reads: ``ok``, ``bad``, ``info`` (a rollout under way) or ``muted`` (nothing to say).

    Degraded=False and Progressing=False (no rollout under way) are good news, not red; a stalled rollout is bad.
    """
    status, type_ = condition.get("status"), condition.get("type")
    if type_ == "Degraded":
        return {"True": "bad", "False": "ok"}.get(str(status), "muted")
    if type_ == "Progressing":
        if condition.get("reason") == "RolloutStalled":
            return "bad"
        return "info" if status == "True" else "muted"
    return {"True": "ok", "False": "bad"}.get(str(status), "muted")


HEALTH_TONE: dict[str, str] = {
    Health.HEALTHY: "ok",
    Health.DEGRADED: "warn",
    Health.DOWN: "bad",
    Health.UNKNOWN: "unknown",
    Health.PROVISIONING: "info",
    Health.UPGRADING: "info",
    Health.OTHER: "muted",
}
CLUSTER_TONE: dict[str, str] = {
    ClusterHealth.HEALTHY: "ok",
    ClusterHealth.DEGRADED: "warn",
    ClusterHealth.UNREACHABLE: "bad",
    ClusterHealth.UNKNOWN: "unknown",
}


@register.simple_tag
def health_badge(verdict: Verdict) -> SafeString:
    """The verdict's health as a badge whose tooltip lists every reason."""
    label = "Not serving" if verdict.health == Health.OTHER else verdict.health.value
    title = " ".join(r.text for r in verdict.reasons)
    return format_html(
        '<span class="badge badge-{}" data-health="{}"{}>{}</span>',
        HEALTH_TONE.get(verdict.health, "muted"),
        verdict.health.value,
        format_html(' title="{}"', title) if title else "",
        label,
    )


HEALTH_MEANING: dict[str, str] = {
    Health.HEALTHY: "Reconciliation, the metrics and the cluster all say it serves.",
    Health.DEGRADED: "It serves, but something is wrong.",
    Health.DOWN: "It does not serve.",
    Health.UNKNOWN: "The console lacks the evidence to say: see why.",
    Health.PROVISIONING: "It is being set up.",
    Health.UPGRADING: "A new Harbor version is rolling out.",
    Health.OTHER: "Suspended or deleted: it is not expected to serve.",
}
REASON_SOURCES = {"console": "Reconciliation", "metrics": "Metrics", "cluster": "Cluster"}


@register.filter
def health_meaning(health: str) -> str:
    return HEALTH_MEANING.get(health, "")


@register.filter
def reason_source(source: str) -> str:
    return REASON_SOURCES.get(source, source)


@register.simple_tag
def condition_status_badge(condition: dict[str, Any]) -> SafeString:
    """A condition's status, coloured by what it means (see :func:`condition_tone`)."""
    return _badge(condition_tone(condition), str(condition.get("status", "Unknown")))


@register.simple_tag
def cluster_badge(state: str) -> SafeString:
    return _badge(CLUSTER_TONE.get(state, "muted"), state)


@register.filter
def condition_is_problem(condition: dict[str, Any]) -> bool:
    if condition.get("type") == "Degraded":
        return condition.get("status") == "True"
    if condition.get("type") == "Progressing":
        return False
    return condition.get("status") != "True"


@register.filter
def ago(value: datetime | None) -> str:
    """How long ago, to the minute ("less than a minute ago", "5 minutes ago", "2 hours ago"): a live region
    whose only change would be a ticking second stays as it is (see :mod:`provisioning.views.live`)."""
    if value is None:
        return ""
    now = timezone.now()
    if value > now:
        return f"in {timeuntil(value, now, depth=1)}"
    if (now - value).total_seconds() < 60:
        return "less than a minute ago"
    return f"{timesince(value, now, depth=1)} ago"


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


@register.simple_tag
def live_region(url: str = "", also: str = "") -> SafeString:
    """The attributes of a live region (see :mod:`provisioning.views.live`): it polls ``url`` (the page's own
    address when empty) every ``LIVE_REFRESH_SECONDS`` with the digest of what it shows, and on the ``also``
    triggers."""
    triggers = ", ".join(t for t in (f"every {settings.LIVE_REFRESH_SECONDS}s", "live-refresh", also) if t)
    return format_html(
        'data-live hx-get="{}" hx-trigger="{}" hx-headers=\'{{"{}": "{}"}}\'',
        url,
        triggers,
        DIGEST_HEADER,
        DIGEST_MARK,
    )


NAV = (
    ("/", "Fleet"),
    ("/tenants/", "Tenants"),
    ("/registries/", "Registries"),
    ("/waves/", "Waves"),
    ("/monitoring/business/", "Business"),
    ("/clusters/", "Clusters"),
    ("/plans/", "Plans"),
    ("/audit/", "Audit log"),
    ("/account/", "Account"),
    ("/api/docs/", "API"),
)
"""The main navigation: each entry's address and label."""
ADMIN_NAV = (("/webhooks/", "Webhooks"),)
"""Entries shown only to administrators, before Account."""


def current_section(path: str) -> str:
    """The navigation entry a page belongs to: the longest entry its path starts with; the fleet overview also
    answers at ``/monitoring/`` and owns the per-registry monitoring pages."""
    if path.startswith("/monitoring/") and not path.startswith("/monitoring/business/"):
        return "/"
    matches = [href for href, _ in (*NAV, *ADMIN_NAV) if href != "/" and path.startswith(href)]
    return max(matches, key=len) if matches else ("/" if path == "/" else "")


def nav_for(context: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    if "manage_webhooks" not in context.get("user_can", ()):
        return NAV
    at = [href for href, _ in NAV].index("/account/")
    return (*NAV[:at], *ADMIN_NAV, *NAV[at:])


@register.simple_tag(takes_context=True)
def main_nav(context: dict[str, Any]) -> SafeString:
    """The main navigation's items, the current page's marked ``aria-current="page"``."""
    request = context.get("request")
    current = current_section(request.path) if request is not None else ""
    items = [
        format_html(
            '<li><a href="{}"{}>{}</a></li>',
            href,
            mark_safe(' aria-current="page"') if href == current else "",
            label,
        )
        for href, label in nav_for(context)
    ]
    return mark_safe("".join(items))  # noqa: S308 - every item above is built by format_html
