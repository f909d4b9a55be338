"""A provider Redis endpoint is entered through the console's own form and API, belongs to one registry, keeps its
password write-only, and every change is audited (issue #11, point 3)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from provisioning.choices import CacheMode, RunStatus, RunTrigger
from provisioning.models import AuditEvent, CacheBinding, ReconcileRun
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/registries/{}/cache-endpoint/"
SECRET = "provider-handed-Qx7Zk9"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def provider_registry():
    registry = factories.registry(cache_mode=CacheMode.PROVIDER)
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)  # its first run is over
    return registry


def body(**fields):
    values = {"host": "redis-17.eu.example.net", "port": 6380, "password": SECRET, "tls": True}
    values.update(fields)
    return values


def test_an_operator_records_the_endpoint_through_the_api_and_the_password_is_never_shown(
    operator, provider_registry
):
    generation = provider_registry.generation

    response = api(operator).put(URL.format(provider_registry.pk), body(), format="json")

    assert response.status_code == 200, response.content
    assert SECRET not in response.content.decode() and response.json()["password_set"] is True
    cache = CacheBinding.objects.get(registry=provider_registry)
    assert (cache.host, cache.port, cache.tls, cache.password) == (
        "redis-17.eu.example.net",
        6380,
        True,
        SECRET,
    )
    event = AuditEvent.objects.get(action="set_cache_endpoint", registry=provider_registry)
    assert event.actor == operator and event.via == "api"
    assert event.changes["host"] == ["", "redis-17.eu.example.net"] and SECRET not in str(event.changes)
    provider_registry.refresh_from_db()
    assert provider_registry.generation == generation + 1
    assert ReconcileRun.objects.filter(
        registry=provider_registry, trigger=RunTrigger.CHANGED, status=RunStatus.QUEUED
    ).exists()
    assert SECRET not in api(operator).get(URL.format(provider_registry.pk)).content.decode()


def test_an_empty_password_keeps_the_stored_one(operator, provider_registry):
    api(operator).put(URL.format(provider_registry.pk), body(), format="json")

    response = api(operator).patch(
        URL.format(provider_registry.pk), {"port": 6381, "password": ""}, format="json"
    )

    assert response.status_code == 200
    cache = CacheBinding.objects.get(registry=provider_registry)
    assert cache.port == 6381 and cache.password == SECRET


def test_an_endpoint_of_another_registry_is_refused_on_the_host_field(operator, provider_registry):
    other = factories.registry(cache_mode=CacheMode.PROVIDER)
    api(operator).put(URL.format(other.pk), body(), format="json")

    response = api(operator).put(
        URL.format(provider_registry.pk), body(host="REDIS-17.eu.example.net"), format="json"
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["host"] and f"already the Redis of registry {other}" in fields["host"][0]
    assert CacheBinding.objects.get(registry=provider_registry).host == ""
    assert not AuditEvent.objects.filter(action="set_cache_endpoint", registry=provider_registry).exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"host": "not a host"}, "host"), ({"port": 0}, "port"), ({"password": ""}, "password")],
)
def test_bad_input_is_refused_on_its_field_and_changes_nothing(operator, provider_registry, fields, field):
    response = api(operator).put(URL.format(provider_registry.pk), body(**fields), format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert CacheBinding.objects.get(registry=provider_registry).host == ""


def test_a_viewer_may_read_but_not_change_the_endpoint(viewer, provider_registry):
    assert api(viewer).get(URL.format(provider_registry.pk)).status_code == 200
    assert api(viewer).put(URL.format(provider_registry.pk), body(), format="json").status_code == 403


def test_a_registry_running_its_own_redis_has_no_endpoint_to_record(operator):
    registry = factories.registry(cache_mode=CacheMode.MANAGED)

    response = api(operator).put(URL.format(registry.pk), body(), format="json")

    assert response.status_code == 409 and response.json()["error"]["code"] == "managed_cache"


def test_the_form_records_the_endpoint_audited_and_never_renders_the_password(
    client, operator, provider_registry
):
    client.force_login(operator)
    page = f"/registries/{provider_registry.pk}/cache/"

    saved = client.post(page, {"host": "redis-9.eu.example.net", "port": 6379, "password": SECRET})

    assert saved.status_code == 302
    assert CacheBinding.objects.get(registry=provider_registry).password == SECRET
    event = AuditEvent.objects.get(action="set_cache_endpoint", registry=provider_registry)
    assert event.via == "ui" and SECRET not in str(event.changes)
    form = client.get(page)
    assert form.status_code == 200 and SECRET not in form.content.decode()
    assert "A password is stored" in form.content.decode()
    assert "Redis endpoint" in client.get(f"/registries/{provider_registry.pk}/").content.decode()


def test_the_form_shows_a_taken_endpoint_next_to_the_host(client, operator, provider_registry):
    other = factories.registry(cache_mode=CacheMode.PROVIDER)
    api(operator).put(URL.format(other.pk), body(), format="json")
    client.force_login(operator)

    response = client.post(
        f"/registries/{provider_registry.pk}/cache/",
        {"host": "redis-17.eu.example.net", "port": 6380, "password": "x"},
    )

    assert response.status_code == 400
    assert "already the Redis of registry" in response.context["form"].errors["host"][0]


def test_a_viewer_cannot_open_the_form(client, viewer, provider_registry):
    client.force_login(viewer)

    assert client.get(f"/registries/{provider_registry.pk}/cache/").status_code == 403
