"""The OpenAPI schema: published, accurate about errors and headers, and behind a login like every page."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from provisioning.api.urls import router
from provisioning.api.views.base import ApiViewSet
from provisioning.permissions import ACTIONS
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

STANDARD = ("list", "retrieve", "create", "update", "partial_update", "destroy")


def schema_of(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def operations(schema):
    """This API's operations (monitoring documents its own under /api/v1/monitoring/)."""
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/monitoring/"):
            continue
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_every_action_of_every_viewset_has_a_permission_rule():
    for prefix, viewset, _ in router.registry:
        assert issubclass(viewset, ApiViewSet), f"{prefix} does not check roles per action"
        actions = [name for name in STANDARD if hasattr(viewset, name)]
        actions += [extra.__name__ for extra in viewset.get_extra_actions()]
        for action in actions:
            assert action in viewset.action_permissions, f"{prefix}: {action} has no permission rule"
            assert viewset.action_permissions[action] in ACTIONS


def test_the_schema_is_served_to_a_token(viewer):
    schema = schema_of(token_client(viewer))
    assert schema["openapi"].startswith("3.")
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])
    assert "Error" in schema["components"]["schemas"]
    paths = set(schema["paths"])
    for expected in (
        "/api/v1/tenants/",
        "/api/v1/plans/{id}/",
        "/api/v1/clusters/",
        "/api/v1/registries/{id}/upgrade/",
        "/api/v1/registries/{id}/rotate-credentials/",
        "/api/v1/registries/{id}/manifests/",
        "/api/v1/registries/{id}/helm-values/",
        "/api/v1/runs/{id}/",
        "/api/v1/audit-events/",
        "/api/v1/tokens/{id}/",
    ):
        assert expected in paths


def test_every_operation_documents_its_errors_in_the_one_shape(viewer):
    schema = schema_of(token_client(viewer))
    error_ref = "#/components/schemas/Error"
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        for status in ("401", "403"):
            assert responses[status]["content"]["application/json"]["schema"]["$ref"] == error_ref, (
                path,
                method,
            )
        if "{id}" in path:
            assert "404" in responses, (path, method)
        if method in ("post", "put", "patch"):
            assert {"400", "415"} <= set(responses), (path, method)


def test_long_operations_document_202_with_location_and_if_match(viewer):
    schema = schema_of(token_client(viewer))
    for action in ("reconcile", "suspend", "resume", "upgrade", "rotate-credentials", "delete", "purge"):
        operation = schema["paths"][f"/api/v1/registries/{{id}}/{action}/"]["post"]
        accepted = operation["responses"]["202"]
        answer = "Upgrade" if action == "upgrade" else "ReconcileRun"  # an upgrade: the step-by-step one
        assert accepted["content"]["application/json"]["schema"]["$ref"] == f"#/components/schemas/{answer}"
        assert "Location" in accepted["headers"]
        assert "412" in operation["responses"] and "409" in operation["responses"]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in operation["parameters"])
    upgrade = schema["paths"]["/api/v1/registries/{id}/upgrade/"]["post"]
    assert upgrade["requestBody"]["required"] is True
    in_place = upgrade["responses"]["200"]  # only a registry never deployed: its version changes in place
    assert in_place["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ReconcileRun"
    assert "Location" in in_place["headers"] and "never deployed" in in_place["description"]
    purge = schema["paths"]["/api/v1/registries/{id}/purge/"]["post"]
    body = purge["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    force = schema["components"]["schemas"][body]["properties"]["force"]
    assert force["type"] == "boolean" and force["default"] is False and "bucket" in force["description"]


def test_creates_document_idempotency_keys(viewer):
    schema = schema_of(token_client(viewer))
    for resource in ("tenants", "plans", "clusters", "registries"):
        operation = schema["paths"][f"/api/v1/{resource}/"]["post"]
        assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
        assert "422" in operation["responses"] and "201" in operation["responses"]
    tokens = schema["paths"]["/api/v1/tokens/"]["post"]
    assert "key" in str(schema["components"]["schemas"]["NewApiToken"])
    assert not any(p["name"] == "Idempotency-Key" for p in tokens.get("parameters", []))


def test_the_registry_detail_documents_its_etag(viewer):
    schema = schema_of(token_client(viewer))
    detail = schema["paths"]["/api/v1/registries/{id}/"]
    assert "ETag" in detail["get"]["responses"]["200"]["headers"]
    assert "ETag" in detail["patch"]["responses"]["200"]["headers"]
    assert "put" not in detail


def test_cluster_credentials_are_write_only_in_the_schema(viewer):
    schema = schema_of(token_client(viewer))
    components = schema["components"]["schemas"]
    read = components["Cluster"]["properties"]
    write = components["ClusterRequest"]["properties"]
    for secret in ("token", "kubeconfig", "database_admin_url", "s3_access_key", "s3_secret_key"):
        assert secret not in read and secret in write


def test_the_schema_needs_a_login():
    """Like every page of the console: a token or a session (see the README)."""
    response = APIClient().get("/api/schema/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_docs_redirect_to_the_login_page(client):
    for path in ("/api/docs/", "/api/redoc/"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_docs_are_served_offline_to_a_session_with_no_inline_script(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "drf_spectacular_sidecar" in html and "cdn.jsdelivr" not in html and "googleapis" not in html
    assert "<script>" not in html and "<style>" not in html  # the init script is a file of its own
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()
    redoc = client.get("/api/redoc/")  # ReDoc fetched fonts from the internet: the docs are Swagger UI's
    assert redoc.status_code == 301 and redoc["Location"] == "/api/docs/"


def test_the_schema_generates_without_warnings(tmp_path):
    """Every field typed, every enum named once (settings name the shared choice sets in ENUM_NAME_OVERRIDES)."""
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml"))
