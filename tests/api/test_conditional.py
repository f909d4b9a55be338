"""Conditional reads and the headers of an idempotent replay."""

from __future__ import annotations

import pytest

from provisioning.models import Registry
from tests import factories
from tests.api.test_registries import create_body

pytestmark = pytest.mark.django_db


def test_if_none_match_with_the_current_etag_is_304_without_body(viewer_api):
    registry = factories.registry()
    url = f"/api/v1/registries/{registry.pk}/"
    etag = viewer_api.get(url)["ETag"]
    response = viewer_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b"" and response["ETag"] == etag


def test_if_none_match_after_a_change_answers_the_new_version(viewer_api):
    registry = factories.registry()
    url = f"/api/v1/registries/{registry.pk}/"
    etag = viewer_api.get(url)["ETag"]
    Registry.objects.filter(pk=registry.pk).update(generation=registry.generation + 1)
    response = viewer_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag and response.json()["id"] == registry.pk


def test_a_malformed_if_none_match_gets_the_full_answer(viewer_api):
    registry = factories.registry()
    response = viewer_api.get(f"/api/v1/registries/{registry.pk}/", HTTP_IF_NONE_MATCH="not-a-tag")
    assert response.status_code == 200


def test_a_replayed_create_sends_the_first_etag_and_location(operator_api):
    body = create_body()
    first = operator_api.post("/api/v1/registries/", body, format="json", HTTP_IDEMPOTENCY_KEY="etag-1")
    again = operator_api.post("/api/v1/registries/", body, format="json", HTTP_IDEMPOTENCY_KEY="etag-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"] and again["Location"] == first["Location"]


@pytest.mark.parametrize("key", ["clé-unicode", "ключ"])
def test_an_idempotency_key_outside_printable_ascii_is_400(operator_api, key):
    body = {"slug": "asciikey", "name": "x"}
    response = operator_api.post("/api/v1/tenants/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
