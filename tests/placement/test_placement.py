"""Placement through the API and the UI: by region and free capacity, refusals that store nothing, moves refused
while a registry holds data, and each cluster's use shown."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.choices import Phase
from provisioning.models import AuditEvent, Plan, Registry
from provisioning.rendering.quantities import cpu_text, cpu_words
from provisioning.services.placement import Reservation
from tests import factories
from tests.api.conftest import token_client
from tests.placement.clusters import usable
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def api_create(client, tenant, name, **fields):
    body = {
        "tenant": tenant.slug,
        "name": name,
        "plan": "m",
        "hostname": f"{name}.{tenant.slug}.example.com",
        **fields,
    }
    return client.post("/api/v1/registries/", body, format="json")


def field_error(body: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error">(.*?)</ul>', body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def test_the_api_places_in_the_freer_cluster_of_the_region_and_refuses_naming_the_region_when_full(operator):
    api = token_client(operator)
    tenant = factories.tenant()
    small = usable(region="north", capacity=1)
    large = usable(region="north", capacity=3)
    usable(region="south", capacity=100)  # another region is never a fallback

    placed = [api_create(api, tenant, f"r{n}", region="north") for n in range(4)]
    assert [r.status_code for r in placed] == [201] * 4, placed[-1].json()
    # Equal free shares go to the older cluster; then the freer one (large 2/3 free beats small 0/1, ...).
    assert [r.json()["cluster"] for r in placed] == [small.name, large.name, large.name, large.name]

    before = (Registry.objects.count(), AuditEvent.objects.count())
    refused = api_create(api, tenant, "r5", region="north")
    assert refused.status_code == 400
    error = refused.json()["error"]
    message = " ".join(error["fields"]["region"])
    assert "No cluster in region north has room" in message
    assert f"{small.name}: 1 of 1 registries placed" in message
    assert f"{large.name}: 3 of 3 registries placed" in message
    assert (Registry.objects.count(), AuditEvent.objects.count()) == before


def test_allocatable_cpu_and_memory_bound_placement_by_the_plans_namespace_ceilings(operator):
    api = token_client(operator)
    tenant = factories.tenant()
    plan = Plan.objects.get(name="m")
    needs = Reservation.of(plan)
    # Room for exactly one registry of the plan by CPU on the first cluster, two by memory on the second.
    by_cpu = usable(region="west", allocatable_cpu=cpu_text(needs.cpu + needs.cpu // 2))
    by_memory = usable(region="west", allocatable_memory=str(needs.memory * 2))

    clusters = [api_create(api, tenant, f"w{n}", region="west").json()["cluster"] for n in range(3)]
    assert sorted(clusters) == sorted([by_cpu.name, by_memory.name, by_memory.name])

    refused = api_create(api, tenant, "w9", region="west")
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["region"])
    assert "reserved, the plan needs" in message and "memory reserved" in message

    listed = {c["name"]: c["use"] for c in api.get("/api/v1/clusters/?limit=100").json()["results"]}
    assert listed[by_cpu.name]["registries"] == 1
    assert listed[by_cpu.name]["cpu_reserved_millicores"] == needs.cpu
    assert listed[by_cpu.name]["memory_allocatable_bytes"] is None  # not recorded: no limit, not "zero"
    assert listed[by_memory.name]["memory_reserved_bytes"] == 2 * needs.memory


def test_a_named_cluster_overrides_placement_but_not_its_capacity(operator):
    api = token_client(operator)
    tenant = factories.tenant()
    full = factories.cluster(region="east", capacity=1)
    factories.cluster(region="east", capacity=10)
    assert api_create(api, tenant, "a", cluster=full.name).json()["cluster"] == full.name
    refused = api_create(api, tenant, "b", cluster=full.name)
    assert refused.status_code == 400
    assert "has no room" in " ".join(refused.json()["error"]["fields"]["cluster"])
    missing = api_create(api, tenant, "c")
    assert missing.status_code == 400
    assert "Give a region" in " ".join(missing.json()["error"]["fields"]["region"])
    unknown = api_create(api, tenant, "d", region="atlantis")
    assert "No cluster is in region atlantis" in " ".join(unknown.json()["error"]["fields"]["region"])


def test_the_ui_form_places_by_region_and_shows_the_refusal_on_the_region_field(operator):
    client = logged_in(operator)
    tenant = factories.tenant()
    cluster = usable(region="ui-land", capacity=1)
    data = {
        "tenant": tenant.pk,
        "name": "first",
        "plan": Plan.objects.get(name="m").pk,
        "region": "ui-land",
        "cluster": "",
        "harbor_version": "2.14.4",
        "hostname": "first.example.com",
        "cache_mode": "managed",
    }
    created = client.post(reverse("provisioning:registry-create"), data)
    assert created.status_code == 302
    assert Registry.objects.get(tenant=tenant, name="first").cluster == cluster

    refused = client.post(
        reverse("provisioning:registry-create"), {**data, "name": "second", "hostname": "second.example.com"}
    )
    assert refused.status_code == 400
    assert "No cluster in region ui-land has room" in field_error(refused.content.decode(), "region")
    assert not Registry.objects.filter(tenant=tenant, name="second").exists()


def holding_data(registry: Registry) -> Registry:
    """As reconciliation leaves it: database and bucket made, the stack rolled out."""
    registry.database.provisioned_at = timezone.now()
    registry.database.save()
    registry.storage.provisioned_at = timezone.now()
    registry.storage.save()
    Registry.objects.filter(pk=registry.pk).update(
        deployed_version=registry.harbor_version, phase=Phase.READY
    )
    registry.refresh_from_db()
    return registry


def test_moving_a_registry_that_holds_data_is_refused_with_what_a_migration_needs(operator):
    api = token_client(operator)
    home, elsewhere = factories.cluster(region="m"), factories.cluster(region="m")
    registry = holding_data(factories.registry(cluster=home))
    before = AuditEvent.objects.count()

    refused = api.patch(f"/api/v1/registries/{registry.pk}/", {"cluster": elsewhere.name}, format="json")
    assert refused.status_code == 409
    message = refused.json()["error"]["message"]
    for needed in ("pg_dump", registry.database.name, registry.storage.bucket, "Redis"):
        assert needed in message
    registry.refresh_from_db()
    assert registry.cluster == home and AuditEvent.objects.count() == before

    page = logged_in(operator).post(
        reverse("provisioning:registry-edit", args=[registry.pk]),
        {"hostname": registry.hostname, "plan": registry.plan.pk, "cluster": elsewhere.pk},
    )
    assert page.status_code == 400
    assert "pg_dump" in field_error(page.content.decode(), "cluster")
    registry.refresh_from_db()
    assert registry.cluster == home


def test_a_registry_that_holds_nothing_yet_may_move(operator):
    api = token_client(operator)
    home, elsewhere = factories.cluster(region="m"), factories.cluster(region="m")
    registry = factories.registry(cluster=home)
    moved = api.patch(f"/api/v1/registries/{registry.pk}/", {"cluster": elsewhere.name}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["cluster"] == elsewhere.name


def test_cluster_use_is_shown_on_the_clusters_page_the_cluster_page_and_the_fleet(viewer):
    cluster = factories.observed_cluster(
        region="show", capacity=7, allocatable_cpu="64", allocatable_memory="256Gi"
    )
    factories.registry(cluster=cluster)
    needs = Reservation.of(Plan.objects.get(name="m"))
    client = logged_in(viewer)
    cpu = f"{cpu_words(needs.cpu)} / 64 CPU"
    for url in (
        reverse("provisioning:cluster-list"),
        reverse("provisioning:cluster-detail", args=[cluster.pk]),
        reverse("monitoring:fleet"),
    ):
        body = html.unescape(client.get(url).content.decode())
        assert "1 / 7" in body, url
        assert cpu in body, (url, cpu)
        assert "256 GiB" in body, url
    fleet = token_client(viewer).get("/api/v1/monitoring/fleet/").json()
    [row] = [c for c in fleet["clusters"] if c["name"] == cluster.name]
    assert row["use"] == {
        "registries": 1,
        "capacity": 7,
        "cpu_reserved_millicores": needs.cpu,
        "cpu_allocatable_millicores": 64_000,
        "memory_reserved_bytes": needs.memory,
        "memory_allocatable_bytes": 256 * 2**30,
        "placement": "unknown",  # reached, but its prerequisites were never checked
        "placement_reason": "prerequisites never checked",
    }


def test_cluster_labels_narrow_placement_and_a_mismatch_says_which_labels_exist(operator):
    api = token_client(operator)
    tenant = factories.tenant()
    usable(region="lab", capacity=50, labels={"tier": "bronze"})
    gold = usable(region="lab", capacity=2, labels={"tier": "gold", "zone": "a"})
    placed = api_create(api, tenant, "g1", region="lab", cluster_labels={"tier": "gold"})
    assert placed.status_code == 201 and placed.json()["cluster"] == gold.name

    refused = api_create(api, tenant, "g2", region="lab", cluster_labels={"tier": "platinum"})
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["cluster_labels"])
    assert "tier=platinum" in message and "tier=gold, zone=a" in message
    assert not Registry.objects.filter(tenant=tenant, name="g2").exists()

    form = logged_in(operator).post(
        reverse("provisioning:registry-create"),
        {
            "tenant": tenant.pk,
            "name": "g3",
            "plan": Plan.objects.get(name="m").pk,
            "region": "lab",
            "cluster_labels": "tier=gold, zone=a",
            "harbor_version": "2.14.4",
            "hostname": "g3.example.com",
            "cache_mode": "managed",
        },
    )
    assert form.status_code == 302
    assert Registry.objects.get(tenant=tenant, name="g3").cluster == gold
    bad = logged_in(operator).post(
        reverse("provisioning:registry-create"),
        {"tenant": tenant.pk, "name": "g4", "region": "lab", "cluster_labels": "gold"},
    )
    assert "is not key=value" in field_error(bad.content.decode(), "cluster_labels")
