"""Roles: a viewer can read and cannot change anything; the same helper decides for the UI and the API."""

import pytest

from provisioning.permissions import Role, can, role_of
from tests import factories

pytestmark = pytest.mark.django_db


def test_role_ladder(viewer, operator, admin_user, stranger):
    assert role_of(viewer) == Role.VIEWER
    assert role_of(operator) == Role.OPERATOR
    assert role_of(admin_user) == Role.ADMIN
    assert role_of(stranger) == Role.NONE
    assert can(viewer, "view") and not can(viewer, "reconcile") and not can(viewer, "create")
    assert can(operator, "upgrade") and not can(operator, "purge")
    assert can(admin_user, "purge")
    assert not can(stranger, "view")


def test_viewer_cannot_change_through_the_api(client, viewer):
    client.force_login(viewer)
    registry = factories.registry()
    response = client.post(f"/api/v1/registries/{registry.pk}/reconcile/")
    assert response.status_code in (403, 404)


def test_every_page_needs_login(client):
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/").status_code in (401, 403)
    assert client.get("/healthz/live").status_code == 200
