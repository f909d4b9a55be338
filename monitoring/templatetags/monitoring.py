"""Template helpers of the monitoring pages: figures with their units, usage meters, links to console pages."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from monitoring.health import NEAR_QUOTA
from monitoring.units import format_value

register = template.Library()


@register.filter
def metric(value: Any, unit: str) -> str:
    """A figure as a person reads it: ``{{ row.storage_used|metric:"bytes" }}``."""
    return format_value(value, unit)


@register.filter
def raw(value: Any) -> str:
    """The exact figure, for ``data-value`` attributes (empty when there is none)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value))


@register.filter
def epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _url(name: str, pk: int, fallback: str) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return fallback


@register.simple_tag
def registry_url(pk: int) -> str:
    """The registry's console page (built by the provisioning UI)."""
    return _url("provisioning:registry-detail", pk, f"/registries/{pk}/")


@register.simple_tag
def tenant_url(pk: int) -> str:
    return _url("provisioning:tenant-detail", pk, f"/tenants/{pk}/")


@register.simple_tag
def usage_meter(used: float | None, limit: float | None, unit: str = "bytes") -> SafeString:
    """A meter of ``used`` against ``limit`` with the figures in words beside it."""
    if used is None or not limit:
        return format_html('<span class="muted">{}</span>', format_value(None, unit))
    share = used / limit
    return format_html(
        '<span class="usage{}"><meter min="0" max="1" low="{}" high="0.95" optimum="0" value="{}" '
        'aria-label="{} of {}"></meter> {} <span class="muted">of {} · {}</span></span>',
        " usage-near" if share >= NEAR_QUOTA else "",
        NEAR_QUOTA,
        f"{min(share, 1.0):.4f}",
        format_value(used, unit),
        format_value(limit, unit),
        format_value(used, unit),
        format_value(limit, unit),
        format_value(share, "ratio"),
    )


@register.simple_tag(takes_context=True)
def sort_header(
    context: dict[str, Any], current: str, key: str, label: str, numeric: bool = False
) -> SafeString:
    """A sortable column header: a link flipping the direction, with ``aria-sort`` for screen readers."""
    request = context["request"]
    params = request.GET.copy()
    params.pop("page", None)
    ascending = current == key
    descending = current == f"-{key}"
    params["sort"] = f"-{key}" if ascending or (numeric and not descending) else key
    state = "ascending" if ascending else "descending" if descending else "none"
    css = f"sort sort-{state}" if state != "none" else "sort"
    return format_html(
        '<th scope="col" aria-sort="{}"{}><a class="{}" href="?{}" hx-get="?{}" hx-target="#fleet-table" '
        'hx-push-url="true">{}</a></th>',
        state,
        mark_safe(' class="num"') if numeric else "",
        css,
        params.urlencode(),
        params.urlencode(),
        label,
    )


@register.simple_tag(takes_context=True)
def with_params(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with ``changes`` applied (a value of None removes the parameter)."""
    params = context["request"].GET.copy()
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return "?" + params.urlencode()
