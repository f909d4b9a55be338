"""Selections on lists: ids, several tenants, changed since, phase and health sets, and the brief shape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning.choices import Phase
from provisioning.models import Registry
from tests import factories
from tests.api.test_errors import assert_error_shape

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content[:300]
    return {row["id"] for row in response.json()["results"]}


def test_id_in_selects_exactly_those_registries(viewer_api):
    a, b, _c = factories.registry(), factories.registry(), factories.registry()
    assert ids(viewer_api.get(f"/api/v1/registries/?id__in={a.pk},{b.pk}")) == {a.pk, b.pk}


def test_id_in_on_every_list(admin_api):
    tenant = factories.tenant()
    factories.tenant()
    assert ids(admin_api.get(f"/api/v1/tenants/?id__in={tenant.pk}")) == {tenant.pk}


@pytest.mark.parametrize("value", ["1,x", "0", "-3", "1" * 30])
def test_a_malformed_id_list_is_400(viewer_api, value):
    error = assert_error_shape(viewer_api.get(f"/api/v1/registries/?id__in={value}"), 400, "invalid")
    assert "id__in" in error["fields"]


def test_more_than_200_ids_is_400(viewer_api):
    value = ",".join(str(n) for n in range(1, 202))
    assert_error_shape(viewer_api.get(f"/api/v1/registries/?id__in={value}"), 400, "invalid")


def test_tenant_in_selects_several_tenants(viewer_api):
    a, b, _c = factories.registry(), factories.registry(), factories.registry()
    url = f"/api/v1/registries/?tenant__in={a.tenant.slug},{b.tenant.slug}"
    assert ids(viewer_api.get(url)) == {a.pk, b.pk}
    for resource in ("runs", "audit-events"):
        one, other = (ids(viewer_api.get(f"/api/v1/{resource}/?tenant={r.tenant.slug}")) for r in (a, b))
        both = ids(viewer_api.get(f"/api/v1/{resource}/?tenant__in={a.tenant.slug},{b.tenant.slug}"))
        assert both == one | other and one and other


def test_updated_after_and_before(viewer_api):
    old, new = factories.registry(), factories.registry()
    Registry.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert new.pk in ids(viewer_api.get(f"/api/v1/registries/?updated_after={since}"))
    assert old.pk not in ids(viewer_api.get(f"/api/v1/registries/?updated_after={since}"))
    assert ids(viewer_api.get(f"/api/v1/registries/?updated_before={since}&id__in={old.pk},{new.pk}")) == {
        old.pk
    }
    assert_error_shape(viewer_api.get("/api/v1/registries/?updated_after=yesterday"), 400, "invalid")


def test_phase_set(viewer_api):
    ready, failed, _pending = factories.registry(), factories.registry(), factories.registry()
    Registry.objects.filter(pk=ready.pk).update(phase=Phase.READY)
    Registry.objects.filter(pk=failed.pk).update(phase=Phase.FAILED)
    assert ids(viewer_api.get("/api/v1/registries/?phase=Ready&phase=Failed")) == {ready.pk, failed.pk}


def test_health_set_without_metrics_is_unknown_never_healthy(viewer_api):
    registry = factories.registry()
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY)
    assert registry.pk not in ids(viewer_api.get("/api/v1/registries/?health=Healthy"))
    assert_error_shape(viewer_api.get("/api/v1/registries/?health=Fine"), 400, "invalid")


def test_brief_lists_only_id_url_and_display(viewer_api):
    registry = factories.registry()
    rows = viewer_api.get(f"/api/v1/registries/?brief=true&id__in={registry.pk}").json()["results"]
    assert rows == [
        {
            "id": registry.pk,
            "url": f"http://testserver/api/v1/registries/{registry.pk}/",
            "display": str(registry),
        }
    ]
    full = viewer_api.get(f"/api/v1/registries/?brief=false&id__in={registry.pk}").json()["results"][0]
    assert "phase" in full
    assert_error_shape(viewer_api.get("/api/v1/registries/?brief=maybe"), 400, "invalid")


@pytest.mark.parametrize("resource", ["tenants", "plans", "clusters", "runs", "audit-events", "tokens"])
def test_brief_on_every_list(admin_api, resource):
    factories.registry()
    response = admin_api.get(f"/api/v1/{resource}/?brief=true")
    assert response.status_code == 200
    for row in response.json()["results"]:
        assert set(row) == {"id", "url", "display"}


def test_brief_is_refused_on_one_object(viewer_api):
    registry = factories.registry()
    assert_error_shape(viewer_api.get(f"/api/v1/registries/{registry.pk}/?brief=true"), 400, "invalid")


@pytest.mark.parametrize(
    "query", ["brief=true", "health=Unknown&health=Healthy", "id__in={ids}&tenant__in={tenants}&brief=true"]
)
def test_selections_cost_a_constant_number_of_queries(admin_api, query):
    """3 registries or 30: the same number of SQL queries per page, brief or filtered by health."""

    def page_queries() -> int:
        registries = list(Registry.objects.select_related("tenant"))
        url = "/api/v1/registries/?limit=200&" + query.format(
            ids=",".join(str(r.pk) for r in registries), tenants=",".join({r.tenant.slug for r in registries})
        )
        with CaptureQueriesContext(connection) as queries:
            response = admin_api.get(url)
        assert response.status_code == 200 and response.json()["count"] == len(registries)
        return len(queries)

    for _ in range(3):
        factories.registry()
    admin_api.get("/api/v1/registries/")  # the token's first use records last_used_at once
    small = page_queries()
    for _ in range(27):
        factories.registry()
    assert page_queries() == small
