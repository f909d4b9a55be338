"""The browsable API (a console session in a browser) and OPTIONS render every endpoint without error."""

from __future__ import annotations

import pytest

from provisioning.models import ApiToken, AuditEvent
from tests import factories
from tests.api.conftest import provisioned_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(admin_user) -> list[str]:
    registry = provisioned_registry()
    token, _ = ApiToken.issue(admin_user, "browsable")
    return [
        "/api/v1/",
        "/api/v1/tenants/",
        f"/api/v1/tenants/{registry.tenant_id}/",
        "/api/v1/plans/",
        f"/api/v1/plans/{registry.plan_id}/",
        "/api/v1/clusters/",
        f"/api/v1/clusters/{registry.cluster_id}/",
        "/api/v1/registries/",
        f"/api/v1/registries/{registry.pk}/",
        f"/api/v1/registries/{registry.pk}/helm-values/",
        f"/api/v1/registries/{registry.pk}/secrets/",
        "/api/v1/runs/",
        f"/api/v1/runs/{registry.runs.get().pk}/",
        "/api/v1/audit-events/",
        f"/api/v1/audit-events/{AuditEvent.objects.latest('id').pk}/",
        "/api/v1/tokens/",
        f"/api/v1/tokens/{token.pk}/",
    ]


def test_every_endpoint_renders_in_the_browser(client, admin_user, paths):
    client.force_login(admin_user)
    for path in paths:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert response["Content-Type"].startswith("text/html"), path


def test_every_endpoint_answers_options(client, admin_user, paths):
    client.force_login(admin_user)
    for path in paths:
        response = client.options(path)
        assert response.status_code == 200, path


def test_options_needs_a_role_too(client):
    client.force_login(factories.user(None))
    assert client.options("/api/v1/registries/").status_code == 403
