"""List pages: search, filters, sorting and pagination, and only the results for htmx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.choices import Phase
from provisioning.models import Registry
from tests import factories

pytestmark = pytest.mark.django_db

LIST_PAGES = ["tenant-list", "registry-list", "cluster-list", "plan-list", "audit", "account"]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_every_list_page_renders_for_a_viewer(viewer_client, name):
    response = viewer_client.get(reverse(f"provisioning:{name}"))
    assert response.status_code == 200
    assert b'<table class="data">' in response.content


def test_registry_search_matches_host_and_tenant(viewer_client):
    wanted = factories.registry(name="alpha", tenant=factories.tenant(name="Acme Shipping"))
    other = factories.registry(name="beta")
    response = viewer_client.get(reverse("provisioning:registry-list"), {"search": "acme"})
    assert wanted.hostname.encode() in response.content
    assert other.hostname.encode() not in response.content
    response = viewer_client.get(reverse("provisioning:registry-list"), {"search": other.hostname})
    assert other.hostname.encode() in response.content
    assert wanted.hostname.encode() not in response.content


def test_registry_filter_by_phase_and_a_wrong_filter_is_explained(viewer_client):
    failed = factories.registry()
    Registry.objects.filter(pk=failed.pk).update(phase=Phase.FAILED)
    pending = factories.registry()
    response = viewer_client.get(reverse("provisioning:registry-list"), {"phase": "Failed"})
    assert failed.hostname.encode() in response.content
    assert pending.hostname.encode() not in response.content
    response = viewer_client.get(reverse("provisioning:registry-list"), {"phase": "Sleeping"})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert pending.hostname.encode() not in response.content


def test_sorting_by_a_column_and_back(viewer_client):
    tenant = factories.tenant()
    for name in ("bravo", "alpha", "charlie"):
        factories.registry(name=name, tenant=tenant)
    url = reverse("provisioning:registry-list")
    body = viewer_client.get(url, {"sort": "name", "tenant": tenant.slug}).content.decode()
    assert body.index("alpha.") < body.index("bravo.") < body.index("charlie.")
    assert 'aria-sort="ascending"' in body
    body = viewer_client.get(url, {"sort": "-name", "tenant": tenant.slug}).content.decode()
    assert body.index("charlie.") < body.index("bravo.") < body.index("alpha.")
    assert 'aria-sort="descending"' in body
    body = viewer_client.get(url, {"sort": "nonsense", "tenant": tenant.slug}).content.decode()
    assert body.index("alpha.") < body.index("charlie.")


def test_pagination_keeps_the_filters_in_its_links(viewer_client):
    tenant = factories.tenant()
    for n in range(27):
        factories.registry(name=f"r{n:02d}", tenant=tenant)
    url = reverse("provisioning:registry-list")
    first = viewer_client.get(url, {"tenant": tenant.slug, "sort": "name"}).content.decode()
    assert "1–25 of 27" in first
    assert f"tenant={tenant.slug}" in first and "page=2" in first
    second = viewer_client.get(url, {"tenant": tenant.slug, "sort": "name", "page": 2}).content.decode()
    assert "26–27 of 27" in second
    assert "r25." in second and "r00." not in second
    assert 'aria-current="page"' in second


def test_htmx_request_aimed_at_the_results_gets_only_the_results(viewer_client):
    factories.registry(name="only")
    response = viewer_client.get(
        reverse("provisioning:registry-list"),
        {"search": "only"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results"')
    assert "<nav" not in body.split('<nav class="pagination"')[0]
    assert "HX-Request" in response["Vary"]


def test_tenant_list_counts_registries_that_are_not_ready(viewer_client):
    tenant = factories.tenant(name="Counting Co")
    ready = factories.registry(tenant=tenant)
    Registry.objects.filter(pk=ready.pk).update(phase=Phase.READY)
    factories.registry(tenant=tenant)  # still Pending
    body = viewer_client.get(reverse("provisioning:tenant-list"), {"search": "Counting"}).content.decode()
    row = body[body.index("Counting Co") :]
    assert '<td class="num">2</td>' in row
    assert '<span class="bad">1</span>' in row


def test_htmx_results_push_a_clean_shareable_address(viewer_client):
    response = viewer_client.get(
        reverse("provisioning:registry-list"),
        {"search": "acme", "phase": "", "plan": "", "sort": "-name"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    assert response["HX-Push-Url"] == "/registries/?search=acme&sort=-name"
    assert "phase=&amp;" not in response.content.decode()
