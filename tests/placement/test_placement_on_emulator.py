"""Placement end to end on two emulated clusters of one region: each new registry's stack lands on the freer
cluster, and once neither has room the create is refused and nothing reaches either cluster."""

from __future__ import annotations

import pytest

from kubeemulator import KubeEmulator
from provisioning.choices import Phase
from provisioning.models import Registry
from provisioning.reconcile import reconcile
from tests import factories
from tests.api.conftest import token_client
from tests.placement.clusters import contacted

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_emulator():
    emulator = KubeEmulator(port=0, ready_delay=0, namespace_drain_delay=0).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def namespaces(emulator: KubeEmulator) -> set[str]:
    return {ns["metadata"]["name"] for ns in emulator.objects("Namespace")}


def test_placement_fills_the_freer_cluster_first_and_refuses_when_the_region_is_full(
    make_emulated_cluster, kube_emulator, second_emulator, operator
):
    first = contacted(make_emulated_cluster(region="emu-north", capacity=2))
    second = contacted(make_emulated_cluster(region="emu-north", capacity=3, api_url=second_emulator.url))
    on = {first.name: kube_emulator, second.name: second_emulator}
    api = token_client(operator)
    tenant = factories.tenant()
    before = namespaces(kube_emulator) | namespaces(second_emulator)

    placed = []
    for n in range(5):
        answer = api.post(
            "/api/v1/registries/",
            {
                "tenant": tenant.slug,
                "name": f"p{n}",
                "plan": "s",
                "region": "emu-north",
                "hostname": f"p{n}.{tenant.slug}.example.com",
            },
            format="json",
        )
        assert answer.status_code == 201, answer.json()
        registry = Registry.objects.get(pk=answer.json()["id"])
        assert reconcile(registry.pk).phase == Phase.READY
        placed.append(registry)

    # Free shares: 1 vs 1 (older first), 1/2 vs 1 → second, 1/2 vs 2/3 → second, 1/2 vs 1/3 → first, 0 vs 1/3.
    assert [r.cluster.name for r in placed] == [first.name, second.name, second.name, first.name, second.name]
    for registry in placed:
        assert registry.namespace in namespaces(on[registry.cluster.name])
        other = second_emulator if registry.cluster == first else kube_emulator
        assert registry.namespace not in namespaces(other)

    reached = namespaces(kube_emulator) | namespaces(second_emulator)
    refused = api.post(
        "/api/v1/registries/",
        {
            "tenant": tenant.slug,
            "name": "p5",
            "plan": "s",
            "region": "emu-north",
            "hostname": f"p5.{tenant.slug}.example.com",
        },
        format="json",
    )
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["region"])
    assert "No cluster in region emu-north has room" in message
    assert f"{first.name}: 2 of 2 registries placed" in message
    assert f"{second.name}: 3 of 3 registries placed" in message
    assert not Registry.objects.filter(name="p5").exists()
    assert namespaces(kube_emulator) | namespaces(second_emulator) == reached
    assert reached - before == {r.namespace for r in placed}


def test_a_cluster_whose_api_server_stopped_answering_is_left_out_and_the_refusal_says_so(
    make_emulated_cluster, kube_emulator, second_emulator, operator
):
    near = contacted(make_emulated_cluster(region="emu-south", capacity=2))
    far = contacted(make_emulated_cluster(region="emu-south", capacity=10, api_url=second_emulator.url))
    on_near, on_far = factories.registry(cluster=near), factories.registry(cluster=far)
    assert reconcile(on_near.pk).phase == reconcile(on_far.pk).phase == Phase.READY
    api = token_client(operator)
    tenant = factories.tenant()

    def create(name: str):
        body = {"tenant": tenant.slug, "name": name, "plan": "s", "region": "emu-south"}
        return api.post("/api/v1/registries/", {**body, "hostname": f"{name}.example.com"}, format="json")

    second_emulator.stop()
    reconcile(on_far.pk)  # the run finds the API server gone and records it on the cluster
    far.refresh_from_db()
    assert far.api_reachable is False and far.last_error

    placed = create("q1")  # far is the freer (9/10 against 1/2) but cannot be used: near takes it
    assert placed.status_code == 201, placed.json()
    assert placed.json()["cluster"] == near.name
    kept = Registry.objects.count()
    refused = create("q2")
    assert refused.status_code == 400
    message = " ".join(refused.json()["error"]["fields"]["region"])
    assert f"{far.name}: not reachable since" in message
    assert f"Without room: {near.name}: 2 of 2 registries placed" in message
    assert Registry.objects.count() == kept
