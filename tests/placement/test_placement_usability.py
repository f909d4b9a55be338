"""Placement never trusts a cluster it cannot vouch for: automatic placement takes only a cluster reached recently
with every prerequisite present; when none with room qualifies, the refusal names each cluster and why (apart from
"no room") and nothing is stored; a cluster named explicitly is refused when known unusable and taken with a
warning when unknown; the cluster pages and the APIs say which clusters placement leaves out and why."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning.models import AuditEvent, Plan, Registry
from tests import factories
from tests.api.conftest import token_client
from tests.placement.clusters import prerequisites, unreachable, usable
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def api_create(client, tenant, name, **fields):
    body = {"tenant": tenant.slug, "name": name, "plan": "m", "hostname": f"{name}.{tenant.slug}.example.com"}
    return client.post("/api/v1/registries/", {**body, **fields}, format="json")


def form_data(tenant, name, **fields):
    return {
        "tenant": tenant.pk,
        "name": name,
        "plan": Plan.objects.get(name="m").pk,
        "region": "",
        "cluster": "",
        "harbor_version": "2.14.4",
        "hostname": f"{name}.example.com",
        "cache_mode": "managed",
        **fields,
    }


def field_error(body: str, field: str) -> str:
    match = re.search(rf'id="id_{field}_error">(.*?)</ul>', body, re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).strip() if match else ""


def stored() -> tuple[int, int]:
    return Registry.objects.count(), AuditEvent.objects.count()


LONG_AGO = timedelta(days=2)

# Each state a cluster can be in, as its observation fields say, and whether automatic placement may take it.
STATES: dict[str, tuple[dict[str, Any], bool]] = {
    "reached, prerequisites present": ({}, True),
    "never contacted": (
        {"api_reachable": None, "last_contact_at": None, "last_list_at": None},
        False,
    ),
    "contact stale": ({"last_contact_at_ago": LONG_AGO}, False),
    "unreachable": (
        {"api_reachable": False, "last_error": "connection refused", "error_ago": timedelta(0)},
        False,
    ),
    "prerequisite absent": ({"prerequisites": prerequisites(ClusterIssuer=False)}, False),
    "prerequisites never checked": ({"prerequisites": [], "prerequisites_checked_at": None}, False),
    "prerequisite not checkable": ({"prerequisites": prerequisites(IngressClass=None)}, False),
}


def in_state(state: str, **fields):
    values, _ = STATES[state]
    values = dict(values)
    now = timezone.now()
    if "last_contact_at_ago" in values:
        values["last_contact_at"] = now - values.pop("last_contact_at_ago")
    if "error_ago" in values:
        values["last_error_at"] = now - values.pop("error_ago")
    return usable(**values, **fields)


@pytest.mark.parametrize("state", list(STATES))
def test_automatic_placement_takes_only_a_cluster_it_can_vouch_for(operator, state):
    """The cluster in ``state`` is the freer one (and the older): it gets the registry only when it is usable."""
    api = token_client(operator)
    tenant = factories.tenant()
    region = f"m-{factories.RUN}-{list(STATES).index(state)}"
    candidate = in_state(state, region=region, capacity=100)
    fallback = usable(region=region, capacity=2)

    placed = api_create(api, tenant, "a", region=region)
    assert placed.status_code == 201, placed.json()
    _, may = STATES[state]
    assert placed.json()["cluster"] == (candidate.name if may else fallback.name)


def test_when_no_cluster_with_room_can_be_vouched_for_the_refusal_names_each_and_stores_nothing(operator):
    api = token_client(operator)
    tenant = factories.tenant()
    at = timezone.now().replace(hour=10, minute=42, second=0, microsecond=0)
    if at > timezone.now():
        at -= timedelta(days=1)  # still "since 10:42", and the contact counts as known, not stale
    down = unreachable(region="dark", name=f"eu-1-{factories.RUN}", at=at, error="connection refused")
    fresh = factories.cluster(region="dark", name=f"eu-2-{factories.RUN}")
    stale = in_state("contact stale", region="dark", name=f"eu-3-{factories.RUN}")
    bare = in_state("prerequisite absent", region="dark", name=f"eu-4-{factories.RUN}")
    full = usable(region="dark", name=f"eu-5-{factories.RUN}", capacity=1)
    factories.registry(cluster=full)
    before = stored()

    refused = api_create(api, tenant, "x", region="dark")
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["region"])
    assert "can be vouched for" in message and "has room" not in message
    assert f"{down.name}: not reachable since {at:%Y-%m-%d} 10:42 UTC (connection refused)" in message
    assert f"{fresh.name}: never contacted" in message
    assert f"{stale.name}: no contact since" in message
    assert f"{bare.name}: prerequisites missing: ClusterIssuer clusterissuer is absent." in message
    assert f"Without room: {full.name}: 1 of 1 registries placed" in message
    assert "name a cluster whose state is unknown" in message
    assert stored() == before

    page = logged_in(operator).post(
        reverse("provisioning:registry-create"), form_data(tenant, "y", region="dark")
    )
    assert page.status_code == 400
    shown = field_error(page.content.decode(), "region")
    assert f"{down.name}: not reachable since" in shown and f"{fresh.name}: never contacted" in shown
    assert stored() == before


def test_no_room_is_still_told_as_no_room_whatever_the_clusters_state(operator):
    tenant = factories.tenant()
    unreachable(region="packed", capacity=0)
    refused = api_create(token_client(operator), tenant, "z", region="packed")
    message = " ".join(refused.json()["error"]["fields"]["region"])
    assert "No cluster in region packed has room" in message and "vouched" not in message


@pytest.mark.parametrize(
    ("make", "why", "what_to_do"),
    [
        (
            lambda **f: unreachable(error="dial tcp 10.0.0.1:6443: i/o timeout", **f),
            "not reachable since",
            "access",
        ),
        (lambda **f: in_state("prerequisite absent", **f), "prerequisites missing", "installed"),
    ],
    ids=["unreachable", "prerequisite-absent"],
)
def test_naming_a_cluster_known_to_be_unusable_is_refused_with_what_to_do(operator, make, why, what_to_do):
    tenant = factories.tenant()
    cluster = make(region="named")
    before = stored()

    refused = api_create(token_client(operator), tenant, "n", cluster=cluster.name)
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["cluster"])
    assert message.startswith(f"Cluster {cluster.name} is {why}")
    assert what_to_do in message and "give only a region" in message
    page = logged_in(operator).post(
        reverse("provisioning:registry-create"), form_data(tenant, "n", cluster=cluster.pk)
    )
    assert page.status_code == 400
    assert why in field_error(page.content.decode(), "cluster")
    assert stored() == before


def test_naming_a_cluster_whose_state_is_unknown_creates_the_registry_with_a_visible_warning(operator):
    tenant = factories.tenant()
    cluster = factories.cluster(region="named")  # never contacted

    created = api_create(token_client(operator), tenant, "u", cluster=cluster.name)
    assert created.status_code == 201, created.json()
    assert created.json()["cluster"] == cluster.name
    health = created.json()["health"]
    assert health["state"] == "Unknown"
    assert any("has not contacted this cluster" in reason["text"] for reason in health["reasons"]), health

    client = logged_in(operator)
    page = client.post(
        reverse("provisioning:registry-create"), form_data(tenant, "v", cluster=cluster.pk), follow=True
    )
    assert page.status_code == 200
    body = html.unescape(page.content.decode())
    assert f"Cluster {cluster.name} is not vouched for (never contacted)" in body
    assert Registry.objects.filter(tenant=tenant, name="v", cluster=cluster).exists()

    vouched = usable(region="named")
    quiet = client.post(
        reverse("provisioning:registry-create"), form_data(tenant, "w", cluster=vouched.pk), follow=True
    )
    assert "not vouched for" not in html.unescape(quiet.content.decode())


def test_the_cluster_pages_and_apis_say_which_clusters_placement_leaves_out_and_why(viewer):
    good = usable(region="shown")
    down = unreachable(region="shown", error="connection refused")
    fresh = factories.cluster(region="shown")
    client = logged_in(viewer)

    listing = html.unescape(
        client.get(reverse("provisioning:cluster-list") + "?region=shown").content.decode()
    )
    assert "excluded" in listing and "never contacted" in listing and "(connection refused)" in listing
    detail = html.unescape(
        client.get(reverse("provisioning:cluster-detail", args=[down.pk])).content.decode()
    )
    assert "Excluded from automatic placement" in detail and "not reachable since" in detail
    detail = html.unescape(
        client.get(reverse("provisioning:cluster-detail", args=[good.pk])).content.decode()
    )
    assert "may be placed here" in detail

    api = token_client(viewer)
    listed = {c["name"]: c["use"] for c in api.get("/api/v1/clusters/?limit=100").json()["results"]}
    assert (listed[good.name]["placement"], listed[good.name]["placement_reason"]) == ("usable", "")
    assert listed[down.name]["placement"] == "unusable"
    assert listed[down.name]["placement_reason"].startswith("not reachable since")
    assert (listed[fresh.name]["placement"], listed[fresh.name]["placement_reason"]) == (
        "unknown",
        "never contacted",
    )
    fleet = {c["name"]: c["use"] for c in api.get("/api/v1/monitoring/fleet/").json()["clusters"]}
    assert fleet[down.name]["placement"] == "unusable" and fleet[good.name]["placement"] == "usable"


def test_the_fleet_page_says_which_clusters_placement_leaves_out_and_why(viewer):
    unreachable(region="fleet-shown", error="connection refused")
    usable(region="fleet-shown")
    page = html.unescape(logged_in(viewer).get(reverse("monitoring:fleet")).content.decode())

    assert "excluded from placement (unusable): not reachable since" in page
    assert "(connection refused)" in page
    assert page.count("excluded from placement") == 1  # the usable cluster is not


def edit_data(registry: Registry, cluster: Any) -> dict[str, Any]:
    return {"hostname": registry.hostname, "plan": registry.plan.pk, "cluster": cluster.pk}


@pytest.mark.parametrize(
    ("make", "why", "what_to_do"),
    [
        (
            lambda **f: unreachable(error="dial tcp 10.0.0.1:6443: i/o timeout", **f),
            "not reachable since",
            "access",
        ),
        (lambda **f: in_state("prerequisite absent", **f), "prerequisites missing", "installed"),
    ],
    ids=["unreachable", "prerequisite-absent"],
)
def test_moving_a_registry_to_a_cluster_known_to_be_unusable_is_refused_with_what_to_do(
    operator, make, why, what_to_do
):
    home = usable(region="move")
    registry = factories.registry(cluster=home)  # holds nothing yet: the only kind that may move at all
    target = make(region="move")
    before = AuditEvent.objects.count()

    refused = token_client(operator).patch(
        f"/api/v1/registries/{registry.pk}/", {"cluster": target.name}, format="json"
    )
    assert refused.status_code == 409, refused.json()
    error = refused.json()["error"]
    assert error["code"] == "move_refused"
    message = error["message"]
    assert message.startswith(f"Cluster {target.name} is {why}")
    assert what_to_do in message and f"keep it on {home.name}" in message
    assert "give only a region" not in message
    page = logged_in(operator).post(
        reverse("provisioning:registry-edit", args=[registry.pk]), edit_data(registry, target)
    )
    assert page.status_code == 400
    assert why in field_error(page.content.decode(), "cluster")
    registry.refresh_from_db()
    assert registry.cluster == home and AuditEvent.objects.count() == before


def test_moving_a_registry_to_a_cluster_whose_state_is_unknown_goes_ahead_with_a_visible_warning(operator):
    home = usable(region="move")
    registry = factories.registry(cluster=home)
    unknown = factories.cluster(region="move")  # never contacted

    moved = token_client(operator).patch(
        f"/api/v1/registries/{registry.pk}/", {"cluster": unknown.name}, format="json"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["cluster"] == unknown.name

    client = logged_in(operator)
    back = client.post(
        reverse("provisioning:registry-edit", args=[registry.pk]), edit_data(registry, home), follow=True
    )
    assert "not vouched for" not in html.unescape(back.content.decode())
    registry.refresh_from_db()
    page = client.post(
        reverse("provisioning:registry-edit", args=[registry.pk]), edit_data(registry, unknown), follow=True
    )
    assert page.status_code == 200
    assert f"Cluster {unknown.name} is not vouched for (never contacted)" in html.unescape(
        page.content.decode()
    )
    registry.refresh_from_db()
    assert registry.cluster == unknown
