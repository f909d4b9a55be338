"""Declarative tables for the console's list pages: columns, sortable headers and pagination, in plain Python.

A :class:`Table` subclass lists its :class:`Column` objects; each column says how a cell renders (a function
returning escaped HTML) and which ORM ordering sorts it. The table reads ``sort`` and ``page`` from the query
string, keeps every other parameter (search, filters) in the links it builds, and fetches one page with a
constant number of queries (the page and its count). ``templates/provisioning/includes/table.html`` renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from django.core.paginator import Page, Paginator
from django.db.models import F, QuerySet
from django.db.models.expressions import OrderBy
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from provisioning import audit
from provisioning.health import Verdict, verdicts
from provisioning.models import AuditEvent, Cluster, Registry
from provisioning.services.placement import cluster_uses
from provisioning.templatetags.console import ago, cluster_badge, health_badge, phase_badge, whose_move_badge

Cell = Callable[[Any], str]

PAGE_SIZES = (25, 50, 100)


@dataclass(frozen=True)
class Column:
    """One column: its query-string key, header label, how a cell renders and the fields it sorts by."""

    key: str
    label: str
    cell: Cell
    order_by: tuple[str, ...] = ()
    numeric: bool = False

    @property
    def sortable(self) -> bool:
        return bool(self.order_by)


@dataclass(frozen=True)
class Header:
    label: str
    sortable: bool
    url: str
    aria_sort: str
    numeric: bool
    next_direction: str


@dataclass(frozen=True)
class Row:
    obj: Any
    cells: list[tuple[str, bool]]


class Table:
    """A page of a queryset, sorted by one column, ready for the table template."""

    columns: ClassVar[Sequence[Column]] = ()
    default_sort: ClassVar[str] = ""
    caption: ClassVar[str] = ""
    empty_text: ClassVar[str] = "Nothing matches."
    page_size: ClassVar[int] = 25
    row_actions_template: ClassVar[str] = ""
    """A template rendered in a last cell of each row (with ``obj``), for buttons that need a CSRF token."""

    def __init__(self, queryset: QuerySet[Any], request: HttpRequest) -> None:
        self.params = QueryDict(mutable=True)
        for name, values in request.GET.lists():
            if kept := [value for value in values if value != ""]:
                self.params.setlist(name, kept)
        self.path = request.path
        self.sort_key, self.descending = self._read_sort(self.params.get("sort", ""))
        per_page = self._read_page_size(self.params.get("per_page", ""))
        paginator = Paginator(self._ordered(queryset), per_page)
        self.page: Page[Any] = paginator.get_page(self.params.get("page"))

    def _read_sort(self, value: str) -> tuple[str, bool]:
        known = {c.key for c in self.columns if c.sortable}
        for candidate in (value, self.default_sort):
            key = candidate.removeprefix("-")
            if key in known:
                return key, candidate.startswith("-")
        return "", False

    def _read_page_size(self, value: str) -> int:
        return int(value) if value.isdigit() and int(value) in PAGE_SIZES else self.page_size

    def _ordered(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        column = next((c for c in self.columns if c.key == self.sort_key), None)
        if column is None:
            return queryset.order_by("pk")
        ordering: list[OrderBy] = [
            F(name).desc(nulls_last=True) if self.descending else F(name).asc(nulls_last=True)
            for name in column.order_by
        ]
        return queryset.order_by(*ordering, "pk")

    def url_with(self, **changes: str | int | None) -> str:
        """This page's URL with some query parameters changed (None removes one)."""
        params: QueryDict = self.params.copy()
        for name, value in changes.items():
            if value is None:
                params.pop(name, None)
            else:
                params[name] = str(value)
        query = params.urlencode()
        return f"{self.path}?{query}" if query else self.path

    @property
    def headers(self) -> list[Header]:
        headers = []
        for column in self.columns:
            active = column.key == self.sort_key
            descending_next = active and not self.descending
            aria = ("descending" if self.descending else "ascending") if active else "none"
            headers.append(
                Header(
                    label=column.label,
                    sortable=column.sortable,
                    url=self.url_with(sort=("-" if descending_next else "") + column.key, page=None)
                    if column.sortable
                    else "",
                    aria_sort=aria if column.sortable else "",
                    numeric=column.numeric,
                    next_direction="descending" if descending_next else "ascending",
                )
            )
        return headers

    def prepare(self, objects: list[Any]) -> None:
        """Load what the cells need for a whole page at once (a constant number of queries); nothing here."""

    @cached_property
    def rows(self) -> list[Row]:
        objects = list(self.page)
        self.prepare(objects)
        return [Row(obj, [(column.cell(obj), column.numeric) for column in self.columns]) for obj in objects]

    @property
    def page_links(self) -> list[tuple[int | None, str]]:
        """Page numbers around the current one (None marks a gap), each with its URL."""
        count = self.page.paginator.num_pages
        current = self.page.number
        wanted = sorted({1, count, *range(max(1, current - 2), min(count, current + 2) + 1)})
        links: list[tuple[int | None, str]] = []
        previous = 0
        for number in wanted:
            if number - previous > 1:
                links.append((None, ""))
            links.append((number, self.url_with(page=number)))
            previous = number
        return links

    @property
    def previous_url(self) -> str:
        return self.url_with(page=self.page.previous_page_number()) if self.page.has_previous() else ""

    @property
    def next_url(self) -> str:
        return self.url_with(page=self.page.next_page_number()) if self.page.has_next() else ""


# Cells ---------------------------------------------------------------------------------------------------------


def _text(attr: str) -> Cell:
    def cell(obj: Any) -> str:
        value = getattr(obj, attr)
        return (
            format_html("{}", value) if value not in (None, "") else mark_safe('<span class="muted">—</span>')
        )

    return cell


def _when(attr: str) -> Cell:
    def cell(obj: Any) -> str:
        value = getattr(obj, attr)
        if value is None:
            return mark_safe('<span class="muted">never</span>')
        return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), value, ago(value))

    return cell


def _link(obj: Any, url_name: str, text: Any) -> SafeString:
    return format_html('<a href="{}">{}</a>', reverse(url_name, args=[obj.pk]), text)


def _registry_name(registry: Registry) -> str:
    return format_html(
        '{}<span class="cell-sub">{}</span>',
        _link(registry, "provisioning:registry-detail", registry.name),
        registry.hostname,
    )


def _registry_cluster(registry: Registry) -> str:
    simulated = (
        mark_safe(' <span class="tag tag-sim" title="Kubernetes API emulator">simulated</span>')
        if registry.cluster.simulated
        else ""
    )
    return format_html("{}{}", registry.cluster.name, simulated)


def _registry_health(registry: Registry) -> str:
    """The health verdict, its first reason and whose move it is (every reason in the badge's tooltip)."""
    verdict: Verdict = registry.verdict  # type: ignore[attr-defined]
    if not verdict.reasons:
        return health_badge(verdict)
    first = verdict.reasons[0]
    more = (
        format_html(' <span class="muted">+{} more</span>', len(verdict.reasons) - 1)
        if len(verdict.reasons) > 1
        else ""
    )
    return format_html(
        '{} <span class="cell-sub"><span class="problem-text">{}</span> {}{}</span>',
        health_badge(verdict),
        first.text,
        whose_move_badge(first.whose_move),
        more,
    )


class TenantTable(Table):
    caption = "Tenants"
    default_sort = "slug"
    empty_text = "No tenant matches."
    columns = (
        Column("slug", "Tenant", lambda t: _link(t, "provisioning:tenant-detail", t.slug), ("slug",)),
        Column("name", "Name", _text("name"), ("name",)),
        Column("contact", "Contact", _text("contact_email"), ("contact_email",)),
        Column(
            "registries", "Registries", lambda t: str(t.registry_count), ("registry_count",), numeric=True
        ),
        Column(
            "unwell",
            "Not ready",
            lambda t: format_html(
                '<span class="{}">{}</span>', "bad" if t.unwell_count else "muted", t.unwell_count
            ),
            ("unwell_count",),
            numeric=True,
        ),
        Column("created", "Created", _when("created_at"), ("created_at",)),
    )


class RegistryTable(Table):
    caption = "Registries"
    default_sort = "tenant"
    empty_text = "No registry matches."
    columns = (
        Column("name", "Registry", _registry_name, ("name",)),
        Column(
            "tenant",
            "Tenant",
            lambda r: _link(r.tenant, "provisioning:tenant-detail", r.tenant.slug),
            ("tenant__slug", "name"),
        ),
        Column("health", "Health", _registry_health),
        Column("phase", "Phase", lambda r: phase_badge(r.phase), ("phase",)),
        Column("version", "Harbor", _text("harbor_version"), ("harbor_version",)),
        Column("plan", "Plan", lambda r: format_html("{}", r.plan), ("plan__storage_quota_gib",)),
        Column("cluster", "Cluster", _registry_cluster, ("cluster__name",)),
        Column("reconciled", "Last reconciled", _when("last_reconciled_at"), ("last_reconciled_at",)),
    )

    def prepare(self, objects: list[Any]) -> None:
        """Every registry of the page gets its health verdict: one metrics reading and one cluster query."""
        by_id = verdicts(objects)
        for registry in objects:
            registry.verdict = by_id[registry.pk]


def _cluster_health(cluster: Cluster) -> str:
    health = cluster.health()
    if not health.reasons:
        return cluster_badge(health.state)
    return format_html(
        '{} <span class="cell-sub">{}</span>', cluster_badge(health.state), " ".join(health.reasons)
    )


def _cluster_api(cluster: Cluster) -> str:
    if cluster.api_reachable is None:
        return mark_safe('<span class="muted">not contacted yet</span>')
    latency = f"{cluster.api_latency_ms:.0f} ms" if cluster.api_latency_ms is not None else "—"
    return format_html(
        '{} <span class="cell-sub">{} · last contact {}</span>',
        cluster.api_version or "version unknown",
        latency,
        ago(cluster.last_contact_at) if cluster.last_contact_at else "never",
    )


def _placement(use: Any) -> str:
    verdict = use.usability
    if verdict.usable:
        return "used"
    return format_html('<span class="muted">excluded</span> <span class="cell-sub">{}</span>', verdict.reason)


class ClusterTable(Table):
    caption = "Clusters"
    default_sort = "name"
    empty_text = "No cluster yet."
    columns = (
        Column("name", "Cluster", lambda c: _link(c, "provisioning:cluster-detail", c.name), ("name",)),
        Column("health", "Health", _cluster_health),
        Column("api", "API server", _cluster_api, ("api_latency_ms",), numeric=False),
        Column("region", "Region", _text("region"), ("region",)),
        Column(
            "kind",
            "Kind",
            lambda c: (
                mark_safe('<span class="tag tag-sim">simulated (Kubernetes API emulator)</span>')
                if c.simulated
                else ("in-cluster" if c.in_cluster else "remote")
            ),
            ("simulated",),
        ),
        Column(
            "registries",
            "Registries",
            lambda c: format_html("{} / {}", c.registry_count, c.capacity),
            ("registry_count",),
            numeric=True,
        ),
        Column("placement", "Placement", lambda c: _placement(c.use)),
        Column("cpu", "CPU reserved", lambda c: c.use.cpu_text, numeric=True),
        Column("memory", "Memory reserved", lambda c: c.use.memory_text, numeric=True),
        Column("queue", "Queue", _text("queue"), ("queue",)),
        Column("ingress", "Ingress class", _text("ingress_class")),
    )

    def prepare(self, objects: list[Any]) -> None:
        """Each cluster's reserved CPU and memory: one query for the page."""
        uses = cluster_uses(objects)
        for cluster in objects:
            cluster.use = uses[cluster.pk]


def _bool(value: bool) -> str:
    return "yes" if value else "no"


class PlanTable(Table):
    caption = "Plans"
    default_sort = "quota"
    empty_text = "No plan yet."
    columns = (
        Column("name", "Plan", lambda p: _link(p, "provisioning:plan-detail", p), ("name",)),
        Column(
            "quota",
            "Storage quota",
            lambda p: f"{p.storage_quota_gib} GiB (max {p.max_storage_quota_gib})",
            ("storage_quota_gib",),
            numeric=True,
        ),
        Column(
            "replicas",
            "Replicas",
            lambda p: f"{p.replicas} (max {p.max_replicas})",
            ("replicas",),
            numeric=True,
        ),
        Column("trivy", "Scanning", lambda p: _bool(p.trivy_enabled), ("trivy_enabled",)),
        Column(
            "parallel",
            "Parallel requests",
            lambda p: str(p.parallel_request_limit),
            ("parallel_request_limit",),
            numeric=True,
        ),
        Column(
            "resources",
            "CPU / memory per pod",
            lambda p: f"{p.cpu_request}–{p.cpu_limit} / {p.memory_request}–{p.memory_limit}",
        ),
        Column("ha", "HA", lambda p: _bool(p.ha), ("ha",)),
        Column(
            "registries", "Registries", lambda p: str(p.registry_count), ("registry_count",), numeric=True
        ),
    )


AUDIT_CHANGES_SHOWN = 6


def _audit_changes(event: AuditEvent) -> str:
    """A change as ``field: old → new`` lines, plans and clusters by name; a snapshot (on create) shows only its
    set fields."""
    items: list[tuple[str, str]] = []
    for field, value in getattr(event, "readable", None) or event.changes.items():
        if isinstance(value, list) and len(value) == 2:
            items.append((field, format_html("{} → {}", _short(value[0]), _short(value[1]))))
        elif value not in (None, "", [], {}):
            items.append((field, _short(value)))
    if not items:
        return mark_safe('<span class="muted">—</span>')
    shown = format_html_join("", "<li><b>{}</b>: {}</li>", items[:AUDIT_CHANGES_SHOWN])
    more = len(items) - AUDIT_CHANGES_SHOWN
    rest = format_html('<li class="muted">and {} more</li>', more) if more > 0 else ""
    return format_html('<ul class="changes">{}{}</ul>', shown, rest)


def _short(value: Any) -> str:
    text = "—" if value in (None, "") else str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _audit_target(event: AuditEvent) -> str:
    if event.registry_id:
        return format_html(
            '{} <a href="{}">{}</a>',
            event.target_type,
            reverse("provisioning:registry-detail", args=[event.registry_id]),
            event.target_repr,
        )
    return format_html("{} {}", event.target_type, event.target_repr)


class AuditTable(Table):
    caption = "Audit events"
    default_sort = "-at"
    empty_text = "No audit event matches."
    page_size = 50
    columns = (
        Column("at", "When", _when("at"), ("at",)),
        Column("actor", "Who", _text("actor_name"), ("actor_name",)),
        Column("via", "Via", lambda e: e.get_via_display(), ("via",)),
        Column("action", "Action", lambda e: format_html("<code>{}</code>", e.action), ("action",)),
        Column("target", "Target", _audit_target, ("target_type", "target_repr")),
        Column("changes", "Change", _audit_changes),
    )

    def prepare(self, objects: list[Any]) -> None:
        """The page's changes with plans and clusters by name: one query each."""
        readable = audit.readable_changes(objects)
        for event in objects:
            event.readable = readable[event.pk]


class TokenTable(Table):
    caption = "Your API tokens"
    default_sort = "-created"
    empty_text = "You have no API token."
    row_actions_template = "provisioning/account/token_actions.html"
    columns = (
        Column("name", "Name", _text("name"), ("name",)),
        Column("prefix", "Starts with", lambda t: format_html("<code>{}…</code>", t.prefix)),
        Column("scope", "Scope", _text("scope"), ("scope",)),
        Column("created", "Created", _when("created_at"), ("created_at",)),
        Column("expires", "Expires", _when("expires_at"), ("expires_at",)),
        Column("used", "Last used", _when("last_used_at"), ("last_used_at",)),
        Column(
            "state",
            "State",
            lambda t: (
                format_html('<span class="muted">revoked {}</span>', ago(t.revoked_at))
                if t.revoked_at
                else format_html('<span class="bad">expired {}</span>', ago(t.expires_at))
                if t.expired
                else mark_safe('<span class="ok">active</span>')
            ),
            ("revoked_at",),
        ),
    )
