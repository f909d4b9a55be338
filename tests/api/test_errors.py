"""One error shape for every 4xx, and no 500 whatever the input."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

HUGE = 10**30


def assert_error_shape(response, status, code=None):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert all(
        isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body["error"]["fields"].values()
    )
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def raw_post(client, url, data, content_type="application/json"):
    return client.generic("POST", url, data, content_type=content_type)


@pytest.mark.parametrize(
    "raw",
    [
        "{",
        "[1, 2",
        "null",
        "[]",
        '"text"',
        "123",
        '{"slug": }',
        "\x00\x01",
        '{"slug": "a\\u0000b", "name": "x"}',
    ],
)
def test_malformed_or_non_object_bodies_are_400(operator_api, raw):
    response = raw_post(operator_api, "/api/v1/tenants/", raw)
    error = assert_error_shape(response, 400)
    assert error["code"] in ("parse_error", "invalid")


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/tenants/", {"slug": 123, "name": ["list"]}, "name"),
        ("/api/v1/tenants/", {"slug": "ok", "name": "x", "colour": "blue"}, "colour"),
        ("/api/v1/tenants/", {"slug": "x" * 10_000, "name": "x"}, "slug"),
        ("/api/v1/tenants/", {"slug": "ok", "name": "x", "contact_email": "not-an-email"}, "contact_email"),
        (
            "/api/v1/plans/",
            {"name": "big", "display_name": "B", "storage_quota_gib": HUGE},
            "storage_quota_gib",
        ),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "replicas": -1}, "replicas"),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "replicas": 1.5}, "replicas"),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "cpu_limit": "lots"}, "cpu_limit"),
        (
            "/api/v1/plans/",
            {"name": "big", "display_name": "B", "storage_quota_gib": 300, "max_storage_quota_gib": 200},
            "storage_quota_gib",
        ),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "trivy_enabled": "perhaps"}, "trivy_enabled"),
        ("/api/v1/clusters/", {"name": "c1", "capacity": HUGE, "api_url": "https://k:6443"}, "capacity"),
        ("/api/v1/clusters/", {"name": "c1", "api_url": "not a url"}, "api_url"),
        ("/api/v1/clusters/", {"name": "c1"}, "api_url"),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "node_selector": ["a"]},
            "node_selector",
        ),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "node_selector": {"a\u0000": "b"}},
            "node_selector",
        ),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "tolerations": [{"effect": "Sometimes"}]},
            "tolerations",
        ),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "tolerations": [{"nope": 1}]},
            "tolerations",
        ),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "egress_cidrs": ["10.0.0.0/33"]},
            "egress_cidrs",
        ),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "egress_cidrs": "10.0.0.0/8"},
            "egress_cidrs",
        ),
        (
            "/api/v1/registries/",
            {"tenant": ["x"], "name": {}, "plan": 1, "cluster": None, "hostname": 5},
            "tenant",
        ),
        ("/api/v1/registries/", {"storage_quota_gib": HUGE}, "storage_quota_gib"),
        ("/api/v1/tokens/", {"name": "x" * 1000}, "name"),
        ("/api/v1/tokens/", {"name": "ok", "key": "hc_mine"}, "key"),
        ("/api/v1/tokens/", {"name": 0}, "name"),
        ("/api/v1/tenants/", {"slug": "ok", "name": "x", "notes": 12}, "notes"),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "replicas": "2"}, "replicas"),
        ("/api/v1/plans/", {"name": "big", "display_name": "B", "ha": 1}, "ha"),
        (
            "/api/v1/clusters/",
            {"name": "c1", "api_url": "https://k:6443", "egress_cidrs": [10]},
            "egress_cidrs",
        ),
    ],
)
def test_wrong_values_are_field_errors(admin_api, url, body, field):
    error = assert_error_shape(admin_api.post(url, body, format="json"), 400, "invalid")
    assert field in error["fields"], error


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/registries/abc/",
        "/api/v1/registries/-1/",
        f"/api/v1/registries/{HUGE}/",
        "/api/v1/registries/0/",
        "/api/v1/registries/1.5/",
        "/api/v1/runs/%00/",
        "/api/v1/tenants/99999999999/",
        "/api/v1/nothing-here/",
        "/api/v1/registries/1/not-an-action/",
    ],
)
def test_bad_ids_and_paths_are_404_in_the_error_shape(admin_api, path):
    assert_error_shape(admin_api.get(path), 404, "not_found")


def test_a_missing_trailing_slash_says_so(admin_api):
    error = assert_error_shape(admin_api.get("/api/v1/registries"), 404, "not_found")
    assert "/api/v1/registries/" in error["message"]


@pytest.mark.parametrize(
    "query",
    [
        "phase=Nope",
        "harbor_version=1.0.0",
        "plan=no-such-plan",
        "deleted=maybe",
        "needs_attention=2",
        "created_after=yesterday",
        "created_after=2026-13-45T99:00:00Z",
        "created_before=99999-01-01",
        "ordering=password",
        "ordering=-",
        "ordering=name,tenant__secrets",
        "tenant=" + "x" * 500,
        "search=" + "y" * 500,
        f"limit={HUGE}",
        "limit=0",
        "limit=201",
        "limit=abc",
        "offset=-5",
        "offset=1.5",
    ],
)
def test_bad_filter_and_ordering_values_are_400(viewer_api, query):
    assert_error_shape(viewer_api.get(f"/api/v1/registries/?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("/api/v1/runs/", f"registry={HUGE}"),
        ("/api/v1/runs/", "registry=abc"),
        ("/api/v1/runs/", "registry=-4"),
        ("/api/v1/runs/", "status=exploded"),
        ("/api/v1/runs/", "error_class=OOPS"),
        ("/api/v1/runs/", "requested_after=never"),
        ("/api/v1/audit-events/", "registry=1e5"),
        ("/api/v1/audit-events/", "via=pigeon"),
        ("/api/v1/audit-events/", "after=2026-02-30T00:00:00Z"),
        ("/api/v1/tokens/", "active=yes-please"),
        ("/api/v1/clusters/", "in_cluster=sure"),
        ("/api/v1/plans/", "ha=on"),
        ("/api/v1/tenants/", "has_registries=several"),
    ],
)
def test_bad_filters_on_every_list_are_400(admin_api, url, query):
    assert_error_shape(admin_api.get(f"{url}?{query}"), 400, "invalid")


@pytest.mark.parametrize(
    "query",
    [
        f"offset={HUGE}",
        "search=%00",
        "search=a%00b",
        "search=%F0%9F%90%B3 whale",
        "tenant=%00",
        "ordering=",
        "unknown_parameter=1",
    ],
)
def test_odd_but_harmless_queries_still_answer_200(viewer_api, query):
    factories.registry()
    response = viewer_api.get(f"/api/v1/registries/?{query}")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert_error_shape(response, 400)


def test_only_json_bodies_are_accepted(operator_api):
    response = raw_post(
        operator_api, "/api/v1/tenants/", "slug=a&name=b", "application/x-www-form-urlencoded"
    )
    assert_error_shape(response, 415, "unsupported_media_type")


def test_a_body_beyond_the_upload_limit_is_413(operator_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = '{"slug": "big", "name": "' + "x" * 2000 + '"}'
    assert_error_shape(raw_post(operator_api, "/api/v1/tenants/", body), 413, "body_too_large")


def test_methods_not_offered_are_405(viewer_api):
    assert_error_shape(viewer_api.put("/api/v1/runs/"), 405, "method_not_allowed")


def test_a_bad_token_is_401_and_says_what_to_do():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer hc_not-a-real-token")
    error = assert_error_shape(client.get("/api/v1/registries/"), 401, "authentication_failed")
    assert "token" in error["message"]
    client.credentials(HTTP_AUTHORIZATION="Bearer two words")
    assert_error_shape(client.get("/api/v1/registries/"), 401)


def test_anonymous_is_401_with_a_challenge():
    response = APIClient().get("/api/v1/registries/")
    assert_error_shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
