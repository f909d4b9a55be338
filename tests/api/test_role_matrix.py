"""The role matrix: every endpoint and action, for anonymous, stranger, viewer, operator and admin.

Below the least role an action needs, the answer is 401 (no credentials) or 403 (role), in the one error shape,
and nothing changes (no audit event, no run). From that role up, the action succeeds with its documented status.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from provisioning.models import ApiToken, AuditEvent, ReconcileRun, Tenant
from tests import factories
from tests.api.conftest import (
    PERSONAS,
    deleted_registry,
    deployed_registry,
    persona_user,
    provisioned_registry,
    suspended_registry,
    token_client,
)

pytestmark = pytest.mark.django_db

RANK = {"anonymous": -1, "stranger": 0, "viewer": 1, "operator": 2, "admin": 3}


@dataclass(frozen=True)
class Case:
    """One endpoint: how to build its URL (given the caller), its body, the least role, the success status."""

    name: str
    method: str
    url: Callable[[Any], str]
    least: str
    success: int
    body: Callable[[str], dict[str, Any]] | None = field(default=None)


def _n() -> int:
    return next(factories._seq)


def new_tenant(user: Any) -> str:
    return f"/api/v1/tenants/{factories.tenant().pk}/"


def unused_plan(user: Any) -> str:
    from provisioning.models import Plan

    plan = Plan.objects.create(name=f"p{factories.RUN}-{_n()}", display_name="Test plan")
    return f"/api/v1/plans/{plan.pk}/"


def unused_cluster(user: Any) -> str:
    return f"/api/v1/clusters/{factories.cluster().pk}/"


def on_registry(suffix: str = "", make: Callable[[], Any] = factories.registry) -> Callable[[Any], str]:
    return lambda user: f"/api/v1/registries/{make().pk}/{suffix}"


def own_token(user: Any) -> str:
    token, _ = ApiToken.issue(user, "to revoke") if user is not None else (ApiToken(pk=1), "")
    return f"/api/v1/tokens/{token.pk}/"


def a_run(user: Any) -> str:
    return f"/api/v1/runs/{factories.registry().runs.get().pk}/"


def an_event(user: Any) -> str:
    factories.registry()
    return f"/api/v1/audit-events/{AuditEvent.objects.latest('id').pk}/"


def tenant_body(url: str) -> dict[str, Any]:
    return {"slug": f"t{factories.RUN}-m{_n()}", "name": "Matrix tenant"}


def tenant_put_body(url: str) -> dict[str, Any]:
    tenant = Tenant.objects.get(pk=url.rstrip("/").rsplit("/", 1)[1])
    return {"slug": tenant.slug, "name": "Replaced", "contact_email": "ops@example.com", "notes": ""}


def plan_body(url: str) -> dict[str, Any]:
    return {"name": f"p{factories.RUN}-m{_n()}", "display_name": "Matrix plan"}


def cluster_body(url: str) -> dict[str, Any]:
    """``api_url`` is set by the test to a local emulator: saving a cluster asks its API server for /version."""
    return {"name": f"c{factories.RUN}-m{_n()}", "api_url": "", "token": "secret-token"}


def registry_body(url: str) -> dict[str, Any]:
    tenant, cluster = factories.tenant(), factories.cluster()
    n = _n()
    return {
        "tenant": tenant.slug,
        "name": f"m{n}",
        "plan": "m",
        "cluster": cluster.name,
        "hostname": f"m{n}.{tenant.slug}.registry.example.com",
    }


CASES = [
    Case("api root", "get", lambda u: "/api/v1/", "viewer", 200),
    Case("tenants list", "get", lambda u: "/api/v1/tenants/", "viewer", 200),
    Case("tenants retrieve", "get", new_tenant, "viewer", 200),
    Case("tenants create", "post", lambda u: "/api/v1/tenants/", "operator", 201, tenant_body),
    Case("tenants put", "put", new_tenant, "operator", 200, tenant_put_body),
    Case("tenants patch", "patch", new_tenant, "operator", 200, lambda url: {"name": "Renamed"}),
    Case("tenants delete", "delete", new_tenant, "operator", 204),
    Case("plans list", "get", lambda u: "/api/v1/plans/", "viewer", 200),
    Case("plans retrieve", "get", unused_plan, "viewer", 200),
    Case("plans create", "post", lambda u: "/api/v1/plans/", "admin", 201, plan_body),
    Case("plans put", "put", unused_plan, "admin", 200, plan_body),
    Case("plans patch", "patch", unused_plan, "admin", 200, lambda url: {"display_name": "Renamed"}),
    Case("plans delete", "delete", unused_plan, "admin", 204),
    Case("clusters list", "get", lambda u: "/api/v1/clusters/", "viewer", 200),
    Case("clusters retrieve", "get", unused_cluster, "viewer", 200),
    Case("clusters create", "post", lambda u: "/api/v1/clusters/", "admin", 201, cluster_body),
    Case("clusters put", "put", unused_cluster, "admin", 200, cluster_body),
    Case("clusters patch", "patch", unused_cluster, "admin", 200, lambda url: {"display_name": "Renamed"}),
    Case("clusters delete", "delete", unused_cluster, "admin", 204),
    Case("registries list", "get", lambda u: "/api/v1/registries/", "viewer", 200),
    Case("registries retrieve", "get", on_registry(), "viewer", 200),
    Case("registries create", "post", lambda u: "/api/v1/registries/", "operator", 201, registry_body),
    Case("registries patch", "patch", on_registry(), "operator", 200, lambda url: {"replicas": 3}),
    Case("registries delete", "delete", on_registry(), "operator", 202),
    Case("registries reconcile", "post", on_registry("reconcile/"), "operator", 202),
    Case("registries suspend", "post", on_registry("suspend/"), "operator", 202),
    Case("registries resume", "post", on_registry("resume/", suspended_registry), "operator", 202),
    Case(
        "registries upgrade",
        "post",
        on_registry("upgrade/", deployed_registry),
        "operator",
        202,
        lambda url: {"target_version": "2.15.2"},
    ),
    Case(
        "registries rotate-credentials",
        "post",
        on_registry("rotate-credentials/", provisioned_registry),
        "operator",
        202,
        lambda url: {"kinds": ["database"]},
    ),
    Case("registries soft delete", "post", on_registry("delete/"), "operator", 202),
    Case("registries purge", "post", on_registry("purge/", deleted_registry), "admin", 202),
    Case("registries manifests", "get", on_registry("manifests/", provisioned_registry), "viewer", 200),
    Case("registries helm-values", "get", on_registry("helm-values/", provisioned_registry), "viewer", 200),
    Case("registries secrets", "get", on_registry("secrets/"), "admin", 200),
    Case("runs list", "get", lambda u: "/api/v1/runs/", "viewer", 200),
    Case("runs retrieve", "get", a_run, "viewer", 200),
    Case("audit list", "get", lambda u: "/api/v1/audit-events/", "viewer", 200),
    Case("audit retrieve", "get", an_event, "viewer", 200),
    Case("tokens list", "get", lambda u: "/api/v1/tokens/", "viewer", 200),
    Case("tokens retrieve", "get", own_token, "viewer", 200),
    Case("tokens create", "post", lambda u: "/api/v1/tokens/", "viewer", 201, lambda url: {"name": "ci"}),
    Case("tokens revoke", "delete", own_token, "viewer", 204),
]


def _changes() -> tuple[int, int, int]:
    return AuditEvent.objects.count(), ReconcileRun.objects.count(), Tenant.objects.count()


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_role_matrix(case: Case, persona: str, request: pytest.FixtureRequest) -> None:
    user = persona_user(persona)
    client = token_client(user)
    url = case.url(user)
    body = case.body(url) if case.body else None
    if body is not None and body.get("api_url") == "":
        body["api_url"] = request.getfixturevalue("kube_emulator").url
    before = _changes()

    response = (
        getattr(client, case.method)(url, body, format="json") if body else getattr(client, case.method)(url)
    )

    if RANK[persona] >= RANK[case.least]:
        assert response.status_code == case.success, response.content[:500]
        if case.method != "get":
            assert user is not None
            latest = AuditEvent.objects.order_by("-id").first()
            assert latest is not None and AuditEvent.objects.count() > before[0], "a write was not audited"
            assert (latest.via, latest.actor_id) == ("api", user.pk)
        return
    expected = 401 if persona == "anonymous" else 403
    assert response.status_code == expected, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == ("not_authenticated" if persona == "anonymous" else "permission_denied")
    if persona != "anonymous":
        assert case.least in error["message"]
    assert _changes() == before, "a refused request changed something"
