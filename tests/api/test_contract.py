"""The one error contract of /api/: deep or huge bodies, server errors, unknown paths and unknown query parameters
all answer in the documented JSON shape."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from provisioning.models import ApiToken
from tests import factories
from tests.api.test_errors import assert_error_shape, raw_post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["viewer", "operator", "admin"])
def test_a_deeply_nested_body_is_a_400_not_an_html_500(client_for, persona):
    body = "[" * 950 + "]" * 950
    response = raw_post(client_for(persona), "/api/v1/tokens/", body)
    error = assert_error_shape(response, 400, "body_too_deep")
    assert "nested" in error["message"]


def test_a_body_nested_beyond_the_limit_but_parseable_is_refused(operator_api):
    body = '{"slug": ' + "[" * 40 + "]" * 40 + ', "name": "x"}'
    assert_error_shape(raw_post(operator_api, "/api/v1/tenants/", body), 400, "body_too_deep")


def test_a_body_within_the_depth_limit_reaches_validation(operator_api):
    body = '{"slug": ' + "[" * 5 + "]" * 5 + ', "name": "x"}'
    error = assert_error_shape(raw_post(operator_api, "/api/v1/tenants/", body), 400, "invalid")
    assert "slug" in error["fields"]


def test_a_server_error_under_api_is_json(admin_user, monkeypatch):
    from provisioning.api.views import tenants

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(tenants.TenantViewSet, "list", explode)
    _, raw = ApiToken.issue(admin_user, "t")
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    error = assert_error_shape(response, 500, "server_error")
    assert "boom" not in error["message"]


def test_a_missing_page_outside_the_api_stays_a_page(admin_user):
    client = Client()
    client.force_login(admin_user)
    response = client.get("/no-such-page-at-all/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path", ["/api/v1/monitoring/nope/", "/api/v1/monitoring/registries/1/nope/", "/api/nothing/"]
)
def test_unknown_api_paths_answer_the_json_404(viewer_api, path):
    assert_error_shape(viewer_api.get(path), 404, "not_found")


def test_unknown_api_paths_answer_the_json_404_without_credentials():
    assert_error_shape(APIClient().get("/api/v1/monitoring/nope/"), 404, "not_found")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/registries/?tenat=x",
        "/api/v1/tenants/?slugg=a",
        "/api/v1/plans/?foo=1",
        "/api/v1/clusters/?x=1",
        "/api/v1/runs/?registy=1",
        "/api/v1/audit-events/?actr=x",
        "/api/v1/tokens/?activ=true",
        "/api/v1/monitoring/fleet/?tenat=x",
        "/api/v1/monitoring/business/?x=1",
        "/api/v1/monitoring/queries/?x=1",
    ],
)
def test_unknown_query_parameters_are_refused_by_name(admin_api, url):
    name = url.split("?")[1].split("=")[0]
    error = assert_error_shape(admin_api.get(url), 400, "invalid")
    assert name in error["fields"] and name in error["message"]


def test_a_typo_in_a_filter_does_not_answer_the_whole_fleet(admin_api):
    factories.registry()
    response = admin_api.get("/api/v1/registries/?tenat=nobody")
    assert response.status_code == 400


def test_known_parameters_still_work(admin_api):
    registry = factories.registry()
    response = admin_api.get(
        f"/api/v1/registries/?tenant={registry.tenant.slug}&limit=5&offset=0&ordering=name&format=json"
    )
    assert response.status_code == 200 and response.json()["count"] == 1


def test_unknown_parameters_on_one_object_are_refused(admin_api):
    registry = factories.registry()
    assert_error_shape(admin_api.get(f"/api/v1/registries/{registry.pk}/?expand=all"), 400, "invalid")
