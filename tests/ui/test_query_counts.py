"""Every list page runs the same number of SQL queries whatever the number of rows (pinned at two sizes)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from provisioning import audit
from provisioning.choices import Via
from provisioning.models import ApiToken
from tests import factories
from tests.ui.conftest import database_unreachable, logged_in

pytestmark = pytest.mark.django_db


def grow_fleet(count: int, user) -> None:
    """``count`` more of everything a list page shows: tenants, registries, clusters, plans, events, tokens."""
    for n in range(count):
        tenant = factories.tenant()
        registry = factories.registry(tenant=tenant, cluster=factories.cluster())
        if n % 2:
            database_unreachable(registry)
        audit.record(user, Via.UI, "update", registry, changes={"replicas": [1, 2], "password": "x"})
        ApiToken.issue(user, f"token {n}")


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


PAGES = [
    ("provisioning:tenant-list", {}),
    ("provisioning:registry-list", {}),
    ("provisioning:registry-list", {"search": "t", "sort": "-phase"}),
    ("provisioning:cluster-list", {}),
    ("provisioning:plan-list", {}),
    ("provisioning:audit", {}),
    ("provisioning:account", {}),
]


@pytest.mark.parametrize(("name", "params"), PAGES)
def test_list_page_query_count_does_not_grow_with_rows(admin_user, name, params):
    client = logged_in(admin_user)
    url = reverse(name) + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")
    grow_fleet(3, admin_user)
    small = queries_for(client, url)
    grow_fleet(30, admin_user)
    large = queries_for(client, url)
    print(f"{name} {params}: {small} queries with 3 rows, {large} with 33")
    assert small == large


def test_registry_page_query_count_does_not_grow_with_history(admin_user):
    client = logged_in(admin_user)
    registry = database_unreachable(factories.registry())
    url = reverse("provisioning:registry-detail", args=[registry.pk])
    small = queries_for(client, url)
    for _ in range(40):
        audit.record(admin_user, Via.UI, "reconcile", registry)
    large = queries_for(client, url)
    print(f"registry page: {small} queries, {large} with 40 more events")
    assert small == large


def test_tenant_and_cluster_pages_query_count_does_not_grow_with_their_registries(admin_user):
    client = logged_in(admin_user)
    tenant, cluster = factories.tenant(), factories.cluster()
    tenant_url = reverse("provisioning:tenant-detail", args=[tenant.pk])
    cluster_url = reverse("provisioning:cluster-detail", args=[cluster.pk])
    factories.registry(tenant=tenant, cluster=cluster)
    small = (queries_for(client, tenant_url), queries_for(client, cluster_url))
    for _ in range(12):
        database_unreachable(factories.registry(tenant=tenant, cluster=cluster))
    large = (queries_for(client, tenant_url), queries_for(client, cluster_url))
    print(f"tenant page / cluster page: {small} queries with 1 registry, {large} with 13")
    assert small == large


def test_polled_partials_query_count_does_not_grow(admin_user):
    client = logged_in(admin_user)
    registry = database_unreachable(factories.registry())
    urls = [
        reverse("provisioning:registry-status", args=[registry.pk]),
        reverse("provisioning:registry-activity", args=[registry.pk]),
    ]
    small = [queries_for(client, url) for url in urls]
    for _ in range(30):
        audit.record(admin_user, Via.UI, "reconcile", registry)
    large = [queries_for(client, url) for url in urls]
    print(f"status / activity partials: {small} queries, {large} with 30 more events")
    assert small == large
