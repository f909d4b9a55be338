"""Optimistic concurrency: the registry's ETag, and If-Match honoured on every write (412 when stale)."""

from __future__ import annotations

import pytest

from provisioning.models import AuditEvent, ReconcileRun, Registry
from tests import factories
from tests.api.conftest import deleted_registry, deployed_registry

pytestmark = pytest.mark.django_db


def etag_of(client, registry):
    response = client.get(f"/api/v1/registries/{registry.pk}/")
    assert response.status_code == 200
    return response["ETag"]


def test_etag_is_stable_until_the_registry_changes(operator_api, registry):
    first = etag_of(operator_api, registry)
    assert first.startswith('"') and first.endswith('"')
    assert etag_of(operator_api, registry) == first

    response = operator_api.patch(
        f"/api/v1/registries/{registry.pk}/", {"replicas": 2}, format="json", HTTP_IF_MATCH=first
    )

    assert response.status_code == 200, response.json()
    assert response["ETag"] != first
    assert etag_of(operator_api, registry) == response["ETag"]


def test_a_stale_if_match_is_refused_with_412_and_nothing_changes(operator_api, registry):
    stale = etag_of(operator_api, registry)
    operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 2}, format="json")
    events, runs = AuditEvent.objects.count(), ReconcileRun.objects.count()

    response = operator_api.patch(
        f"/api/v1/registries/{registry.pk}/", {"replicas": 3}, format="json", HTTP_IF_MATCH=stale
    )

    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "precondition_failed" and "ETag" in error["message"]
    registry.refresh_from_db()
    assert registry.replicas == 2
    assert (AuditEvent.objects.count(), ReconcileRun.objects.count()) == (events, runs)


@pytest.mark.parametrize(
    ("method", "action", "body", "make"),
    [
        ("post", "reconcile/", None, factories.registry),
        ("post", "suspend/", None, factories.registry),
        ("post", "upgrade/", {"target_version": "2.15.2"}, factories.registry),
        ("post", "upgrade/", {"target_version": "2.15.2"}, deployed_registry),
        ("post", "rotate-credentials/", {"kinds": ["database"]}, factories.registry),
        ("post", "delete/", None, factories.registry),
        ("delete", "", None, factories.registry),
        ("post", "purge/", None, deleted_registry),
    ],
)
def test_every_registry_write_checks_if_match(admin_api, method, action, body, make):
    registry = make()
    before = Registry.objects.get(pk=registry.pk)
    url = f"/api/v1/registries/{registry.pk}/{action}"

    response = getattr(admin_api, method)(url, body, format="json", HTTP_IF_MATCH='"not-the-current-one"')

    assert response.status_code == 412, response.json()
    after = Registry.objects.get(pk=registry.pk)
    assert (after.generation, after.desired_state, after.harbor_version) == (
        before.generation,
        before.desired_state,
        before.harbor_version,
    )


@pytest.mark.parametrize("header", ["*", "{etag}", "W/{etag}", '"other", {etag}'])
def test_matching_if_match_forms_are_accepted(operator_api, registry, header):
    etag = etag_of(operator_api, registry)
    response = operator_api.post(
        f"/api/v1/registries/{registry.pk}/suspend/", HTTP_IF_MATCH=header.format(etag=etag)
    )
    assert response.status_code == 202, response.json()


def test_a_malformed_if_match_is_412_not_500(operator_api, registry):
    response = operator_api.post(f"/api/v1/registries/{registry.pk}/suspend/", HTTP_IF_MATCH="no quotes")
    assert response.status_code == 412
    assert response.json()["error"]["code"] == "precondition_failed"


def test_without_if_match_the_last_write_wins(operator_api, registry):
    etag_of(operator_api, registry)
    assert (
        operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 2}, format="json").status_code
        == 200
    )
    assert (
        operator_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 3}, format="json").status_code
        == 200
    )
