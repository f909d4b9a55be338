"""A crawl of the whole console over a seeded fleet: every page of the URL conf with every object id, and every GET
of the published API schema on every object, as an admin and as a viewer. No answer may be a server error, and the
viewer gets exactly the refusals the permission rules say (403 where the role is too low, 404 for what is not
theirs)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from rest_framework.test import APIClient

from provisioning.api.permissions import required_action
from provisioning.choices import ErrorClass, Phase, RunStatus, RunTrigger, Via, WhoseMove
from provisioning.models import (
    ApiToken,
    AuditEvent,
    BulkOperation,
    Cluster,
    Plan,
    ReconcileRun,
    Registry,
    Tenant,
    Upgrade,
    Wave,
    WebhookSubscription,
)
from provisioning.permissions import can
from provisioning.upgrades.operation import start_upgrade
from provisioning.upgrades.waves import plan_wave
from provisioning.views.operations import OPERATIONS
from tests import factories
from tests.api.conftest import deleted_registry, provisioned, suspended_registry
from tests.ui.conftest import database_unreachable, logged_in

pytestmark = pytest.mark.django_db

SKIPPED_PREFIXES = ("admin/", "api/", "static/")
# Pages whose role check is stricter than "view": the viewer must get a 403 there.
OPERATOR_PAGES = {
    "provisioning:registry-create",
    "provisioning:registry-edit",
    "provisioning:registry-cache",
    "provisioning:tenant-create",
    "provisioning:tenant-edit",
}
ADMIN_PAGES = {
    "provisioning:cluster-create",
    "provisioning:cluster-edit",
    "provisioning:plan-create",
    "provisioning:plan-edit",
    "provisioning:webhook-list",
    "provisioning:webhook-create",
    "provisioning:webhook-detail",
    "provisioning:webhook-edit",
}
POST_ONLY = {
    "provisioning:token-create",
    "provisioning:token-revoke",
    "provisioning:webhook-delete",
    "logout",
}


def recorded_actions(namespace: str) -> list[dict[str, str]]:
    """Actions as the engine records them (``RunRecorder.note``)."""
    return [
        {"action": "created", "kind": "Namespace", "namespace": "", "name": namespace},
        {
            "action": "updated",
            "kind": "Deployment",
            "namespace": namespace,
            "name": "core",
            "detail": "image",
        },
        {"action": "unchanged", "kind": "Service", "namespace": namespace, "name": "portal"},
        {
            "action": "deleted",
            "kind": "ConfigMap",
            "namespace": namespace,
            "name": "old",
            "detail": "not desired",
        },
    ]


def seed_fleet(admin: Any, viewer: Any) -> None:
    observed = factories.cluster(api_reachable=True, api_version="v1.31.2", last_contact_at=timezone.now())
    factories.cluster(api_reachable=False, last_error="connection refused", last_error_at=timezone.now())
    factories.cluster(
        simulated=False, prerequisites=[{"kind": "IngressClass", "name": "nginx", "present": False}]
    )
    Plan.objects.create(name=f"x{factories.RUN}", display_name="Custom")
    tenant = factories.tenant()
    factories.tenant()
    ready = provisioned(factories.registry(tenant=tenant, cluster=observed))
    Registry.objects.filter(pk=ready.pk).update(phase=Phase.READY)
    database_unreachable(provisioned(factories.registry(tenant=tenant)))
    suspended_registry()
    failed = factories.registry()
    Registry.objects.filter(pk=failed.pk).update(phase=Phase.FAILED)
    deleted_registry()
    purged = deleted_registry()
    Registry.objects.filter(pk=purged.pk).update(phase=Phase.PURGED)
    factories.registry()  # pending, its first run queued
    now = timezone.now()
    for registry in Registry.objects.all():
        ReconcileRun.objects.create(
            registry=registry,
            trigger=RunTrigger.SWEEP,
            status=RunStatus.SUCCEEDED,
            started_at=now - timedelta(minutes=5),
            finished_at=now - timedelta(minutes=4),
            duration_ms=61_000,
            created=1,
            updated=1,
            unchanged=1,
            deleted=1,
            actions=recorded_actions(registry.namespace),
        )
        ReconcileRun.objects.create(
            registry=registry,
            trigger=RunTrigger.CHANGED,
            status=RunStatus.FAILED,
            started_at=now - timedelta(minutes=2),
            finished_at=now - timedelta(minutes=1),
            error_class=ErrorClass.API_UNAVAILABLE,
            error_message="apply Deployment core: the API server did not answer.",
            whose_move=WhoseMove.TRANSIENT,
            actions=recorded_actions(registry.namespace)[:1],
        )
    for owner in (admin, viewer):
        ApiToken.issue(owner, "active", scope="read-only")
        revoked, _ = ApiToken.issue(owner, "revoked", scope="read-only")
        revoked.revoke()
        expired, _ = ApiToken.issue(owner, "expired", scope="read-only")
        ApiToken.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(days=1))
    WebhookSubscription.objects.create(name="crawl", target_url="http://127.0.0.1:9/", secret="s" * 16)
    run = ReconcileRun.objects.order_by("id").first()
    assert run is not None
    BulkOperation.objects.create(
        action="reconcile",
        runs=[{"registry": run.registry_id, "run": run.pk}],
        refusals=[{"registry": run.registry_id, "code": "registry_purged", "reason": "purged"}],
    )
    some = Registry.objects.order_by("pk").first()
    assert some is not None
    start_upgrade(some, "2.15.2", actor=admin, via=Via.UI, drive=False)  # halts at its pre-flight
    plan_wave(Wave(name="crawl", target_version="2.15.2", batch_size=2), actor=admin, via=Via.UI)
    assert AuditEvent.objects.exists()


def patterns(resolvers: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    """``(route, name)`` of every page of the URL conf, routes as written (``registries/<int:pk>/``)."""
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}".strip(":") if entry.namespace else namespace
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}".strip(":") if entry.name else ""
            yield prefix + str(entry.pattern), name


def ids_for(route: str) -> Iterator[dict[str, Any]]:
    """Every combination of real object ids (and action names) the route takes."""
    if route.startswith("registries/<int:pk>/runs/<int:run_pk>/") or "/registries/<int:pk>/runs/" in route:
        for run in ReconcileRun.objects.all():
            yield {"pk": run.registry_id, "run_pk": run.pk}
        return
    if "<slug:name>" in route:
        for registry, name in itertools.product(Registry.objects.all(), OPERATIONS):
            yield {"pk": registry.pk, "name": name}
        return
    if "<int:pk>" not in route:
        yield {}
        return
    model = {"clusters": Cluster, "plans": Plan, "tenants": Tenant, "account": ApiToken}.get(
        route.split("/")[0], Registry
    )
    if route.startswith("monitoring/"):
        model = Registry
    for pk in model._default_manager.values_list("pk", flat=True):
        yield {"pk": pk}


def fill(route: str, values: dict[str, Any]) -> str:
    path = "/" + route
    for key, value in values.items():
        for converter in ("int", "slug", "str"):
            path = path.replace(f"<{converter}:{key}>", str(value))
    return path


def ui_pages() -> list[tuple[str, str]]:
    pages: list[tuple[str, str]] = []
    for route, name in patterns(get_resolver().url_patterns):
        if route.startswith(SKIPPED_PREFIXES) or name in POST_ONLY or "(?" in route or "^" in route:
            continue
        pages.extend((fill(route, values), name) for values in ids_for(route))
    return pages


REDIRECTS = {"favicon"}
"""Routes that only send the browser elsewhere (a permanent redirect to a static file)."""


def expected_for_admin(name: str) -> set[int]:
    return {301} if name in REDIRECTS else {200, 302, 400, 404}


def expected_for_viewer(name: str, path: str) -> set[int]:
    if name in REDIRECTS:
        return {301}
    if name in OPERATOR_PAGES | ADMIN_PAGES:
        return {403}
    if name == "provisioning:registry-action":
        operation = OPERATIONS[path.rstrip("/").rsplit("/", 1)[1]]
        return {403} if operation.permission != "view" else {200, 404}
    return {200, 302, 400, 404}


def test_every_page_answers_without_a_server_error_for_admin_and_viewer(admin_user, viewer):
    seed_fleet(admin_user, viewer)
    admin, reader = logged_in(admin_user), logged_in(viewer)
    pages = ui_pages()
    assert any("/runs/" in path for path, _ in pages) and len(pages) > 100

    failures = []
    for path, name in pages:
        as_admin = admin.get(path)
        as_viewer = reader.get(path)
        if as_admin.status_code not in expected_for_admin(name):
            failures.append(("admin", path, as_admin.status_code))
        if as_viewer.status_code not in expected_for_viewer(name, path):
            failures.append(("viewer", path, as_viewer.status_code))

    assert failures == [], "\n".join(map(str, failures))


def test_a_run_that_recorded_actions_shows_them(admin_user, viewer):
    seed_fleet(admin_user, viewer)
    run = ReconcileRun.objects.filter(status=RunStatus.SUCCEEDED).first()
    assert run is not None

    response = Client()
    response.force_login(viewer)
    page = response.get(f"/registries/{run.registry_id}/runs/{run.pk}/")

    assert page.status_code == 200
    body = page.content.decode()
    assert "created" in body and "Deployment" in body and "not desired" in body


def published_gets() -> dict[str, set[int]]:
    """Every GET path template of the published schema, with the statuses it documents."""
    schema = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    return {
        path: {int(code) for code in item["get"]["responses"] if code.isdigit()}
        for path, item in schema["paths"].items()
        if "get" in item
    }


def api_paths() -> list[tuple[str, set[int]]]:
    """Every GET on every object: ``(path, documented statuses)``."""
    ids = {
        "tenants": Tenant.objects.values_list("pk", flat=True),
        "plans": Plan.objects.values_list("pk", flat=True),
        "clusters": Cluster.objects.values_list("pk", flat=True),
        "registries": Registry.objects.values_list("pk", flat=True),
        "runs": ReconcileRun.objects.values_list("pk", flat=True),
        "audit-events": AuditEvent.objects.values_list("pk", flat=True),
        "tokens": ApiToken.objects.values_list("pk", flat=True),
        "webhooks": WebhookSubscription.objects.values_list("pk", flat=True),
        "bulk-operations": BulkOperation.objects.values_list("pk", flat=True),
        "upgrades": Upgrade.objects.values_list("pk", flat=True),
        "waves": Wave.objects.values_list("pk", flat=True),
    }
    paths = []
    for template, documented in published_gets().items():
        if "{" not in template:
            paths.append((template, documented))
            continue
        resource = template.removeprefix("/api/v1/").removeprefix("monitoring/").split("/")[0]
        paths.extend((template.replace("{id}", str(pk)), documented) for pk in ids[resource])
    return paths


def expected_api(user: Any, path: str, documented: set[int]) -> set[int]:
    """403 exactly where the permission rule refuses the user's role; someone else's token is a 404; otherwise a
    status the schema documents for the operation, never a refusal of the role."""
    match = resolve(path)
    view_class = getattr(match.func, "cls", None)
    actions = getattr(match.func, "actions", None) or {}
    if view_class is not None and actions:
        view = view_class()
        view.action = actions.get("get")
        request = type("Request", (), {"method": "GET"})()
        if not can(user, required_action(request, view)):
            return {403}
    if path.startswith("/api/v1/tokens/") and path != "/api/v1/tokens/":
        own = ApiToken.objects.filter(user=user, pk=int(path.rstrip("/").rsplit("/", 1)[1])).exists()
        return {200} if own else {404}
    if path.startswith("/api/v1/monitoring/"):
        documented = documented | {400}  # issue 13: monitoring documents only 200 though it answers 400
    return documented - {401, 403}


def test_every_api_get_answers_without_a_server_error_for_admin_and_viewer(admin_user, viewer):
    seed_fleet(admin_user, viewer)
    paths = api_paths()
    assert len(paths) > 100

    failures, answered = [], []
    for user in (admin_user, viewer):
        _, raw = ApiToken.issue(user, "crawler", scope="admin" if user is admin_user else "read-only")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        for path, documented in paths:
            status = client.get(path).status_code
            answered.append(status)
            if status >= 500 or status not in expected_api(user, path, documented):
                failures.append((user.username, path, status))

    assert failures == [], "\n".join(map(str, failures))
    assert answered.count(200) > len(answered) / 2
