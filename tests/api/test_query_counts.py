"""Every list page costs the same number of SQL queries whatever its size (3 rows or 30), and detail pages
do not grow with the registry's components and resources."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from provisioning.choices import RunStatus
from provisioning.models import ApiToken, AuditEvent, ManagedResource, Plan, ReconcileRun
from tests import factories

pytestmark = pytest.mark.django_db

# What a page costs: the token with its user, the role (groups), the count and the page itself; everything rows
# need is joined or annotated. Pinned so that a regression shows up as a failing number.
PAGE_QUERIES = 4
# Pages whose rows need one more query for the whole page: the clusters' reserved CPU and memory (placement).
EXTRA_PAGE_QUERIES = {"clusters": 1}
# A registry's detail: the token, the role, the registry with its tenant, plan, cluster and four bindings joined,
# then its components and its resources.
DETAIL_QUERIES = 5


def add_tenant(n: int) -> None:
    tenant = factories.tenant()
    if n % 2:
        factories.registry(tenant=tenant)


def add_plan(n: int) -> None:
    Plan.objects.create(name=f"q{factories.RUN}-{next(factories._seq)}", display_name="Q")


def add_cluster(n: int) -> None:
    factories.cluster(token="secret", database_admin_url="postgres://a:b@h/postgres")


def add_registry(n: int) -> None:
    registry = factories.registry()
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.FAILED, error_class="API_CONFLICT")


def add_run(n: int) -> None:
    registry = factories.registry()
    ReconcileRun.objects.create(registry=registry, trigger="manual", requested_by=factories.user("operator"))


def add_event(n: int) -> None:
    user = factories.user("operator")
    AuditEvent.objects.create(
        actor=user, actor_name=user.username, via="api", action="update", target_type="x"
    )


def make_adder_token(owner: Any) -> Callable[[int], None]:
    return lambda n: ApiToken.issue(owner, f"token {n}") and None


def list_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize(
    ("endpoint", "adder"),
    [
        ("tenants", add_tenant),
        ("plans", add_plan),
        ("clusters", add_cluster),
        ("registries", add_registry),
        ("runs", add_run),
        ("audit-events", add_event),
        ("tokens", None),
    ],
)
def test_list_pages_cost_a_constant_number_of_queries(admin_user, endpoint, adder):
    _, raw = ApiToken.issue(admin_user, "counting")
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    add = adder or make_adder_token(admin_user)
    url = f"/api/v1/{endpoint}/?limit=200"
    client.get(url)  # the token's first use records last_used_at once; later uses within a minute do not

    for n in range(3):
        add(n)
    small = list_queries(client, url)
    for n in range(3, 30):
        add(n)
    large = list_queries(client, url)

    print(f"{endpoint}: {small} queries for a page of >=3 rows, {large} for >=30")
    assert small == large == PAGE_QUERIES + EXTRA_PAGE_QUERIES.get(endpoint, 0)


def test_registry_detail_does_not_grow_with_its_resources(admin_api):
    registry = factories.registry()

    def add_resources(count: int) -> None:
        start = ManagedResource.objects.filter(registry=registry).count()
        ManagedResource.objects.bulk_create(
            ManagedResource(registry=registry, api_version="v1", kind="ConfigMap", name=f"cm-{i}")
            for i in range(start, start + count)
        )

    url = f"/api/v1/registries/{registry.pk}/"
    admin_api.get(url)
    add_resources(3)
    small = list_queries(admin_api, url)
    add_resources(27)
    large = list_queries(admin_api, url)
    assert small == large == DETAIL_QUERIES
    assert len(admin_api.get(url).json()["resources"]) == 30
