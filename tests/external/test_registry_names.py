"""A registry's namespace is never cut silently, and every clash is reported on its field (issue #11, point 7)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from rest_framework.test import APIClient

from provisioning.models import Registry
from provisioning.naming import namespace_name
from tests import factories

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def create_body(tenant, cluster, name: str, hostname: str) -> dict[str, str]:
    return {
        "tenant": tenant.slug,
        "name": name,
        "plan": "m",
        "cluster": cluster.name,
        "hostname": hostname,
    }


def test_two_long_names_sharing_their_first_63_characters_get_different_namespaces():
    tenant, cluster = factories.tenant(slug="t" * 30), factories.cluster()
    first = factories.registry(tenant=tenant, cluster=cluster, name="r" * 29 + "a", hostname="a.example.com")
    second = factories.registry(tenant=tenant, cluster=cluster, name="r" * 29 + "b", hostname="b.example.com")

    assert first.namespace != second.namespace
    assert first.namespace == namespace_name(tenant.slug, first.name) and len(first.namespace) <= 63
    assert first.namespace.startswith(f"harbor-{'t' * 30}-rrr")


def test_a_namespace_clash_is_reported_on_the_name_field_by_the_api(operator):
    cluster = factories.cluster()
    factories.registry(tenant=factories.tenant(slug="a-b"), name="c", cluster=cluster)
    other = factories.tenant(slug="a")

    response = api(operator).post(
        "/api/v1/registries/", create_body(other, cluster, "b-c", "b-c.a.example.com"), format="json"
    )

    assert response.status_code == 400, response.content
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["name"]
    assert "namespace harbor-a-b-c" in fields["name"][0] and "choose another name" in fields["name"][0]
    assert not Registry.objects.filter(tenant=other).exists()


def test_a_name_taken_within_the_tenant_is_reported_on_the_name_field(operator):
    existing = factories.registry()

    response = api(operator).post(
        "/api/v1/registries/",
        create_body(existing.tenant, factories.cluster(), existing.name, "other.example.com"),
        format="json",
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["name"] and "already has a registry named" in fields["name"][0]


def test_a_hostname_taken_by_another_tenant_is_reported_on_the_hostname_field(operator):
    existing = factories.registry()

    response = api(operator).post(
        "/api/v1/registries/",
        create_body(factories.tenant(), factories.cluster(), "fresh", existing.hostname),
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["hostname"]


def test_the_create_form_shows_a_namespace_clash_next_to_the_name(client, operator):
    cluster = factories.cluster()
    factories.registry(tenant=factories.tenant(slug="a-b"), name="c", cluster=cluster)
    other = factories.tenant(slug="a")
    client.force_login(operator)

    response = client.post(
        "/registries/new/",
        {
            "tenant": other.pk,
            "name": "b-c",
            "plan": factories.plan().pk,
            "cluster": cluster.pk,
            "harbor_version": "2.14.4",
            "hostname": "b-c.a.example.com",
            "cache_mode": "managed",
        },
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert "namespace harbor-a-b-c" in form.errors["name"][0] and not form.non_field_errors()


def test_model_validation_puts_both_clashes_on_the_name_field():
    cluster = factories.cluster()
    taken = factories.registry(tenant=factories.tenant(slug="a-b"), name="c", cluster=cluster)
    candidate = Registry(
        tenant=factories.tenant(slug="a"),
        name="b-c",
        plan=taken.plan,
        cluster=cluster,
        hostname="x.example.com",
    )
    candidate.namespace = candidate.default_namespace()

    with pytest.raises(ValidationError) as refused:
        candidate.full_clean()

    assert set(refused.value.message_dict) == {"name"}
