"""The Kubernetes gateway against the emulator: each way of reaching a cluster, and each verb's edge cases."""

from __future__ import annotations

import os

import pytest
import yaml

from kubeemulator import KubeEmulator
from provisioning.kube import (
    ClusterAccess,
    KubeApiError,
    KubeConfigError,
    KubeGateway,
    KubeUnreachable,
    gateway_for,
)
from provisioning.kube.gateway import LIST_PAGE_SIZE, close_gateways

MANAGER = "harbor-console"


@pytest.fixture
def secured():
    with KubeEmulator(token="the-token") as emulator:
        yield emulator


def namespace(name: str, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def config_map(name: str, ns: str = "team", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": "v"},
    }


def kubeconfig(server: str, token: str, context: str = "emulated") -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": server}}],
            "users": [
                {"name": "u", "user": {"token": token}},
                {"name": "nobody", "user": {"token": "wrong"}},
            ],
            "contexts": [
                {"name": context, "context": {"cluster": "c", "user": "u"}},
                {"name": "wrong-user", "context": {"cluster": "c", "user": "nobody"}},
            ],
            "current-context": context,
        }
    )


def test_url_and_bearer_token(secured):
    gateway = KubeGateway(ClusterAccess(api_url=secured.url, token="the-token"), field_manager=MANAGER)
    created = gateway.apply(namespace("team", owner="me"))
    assert created["metadata"]["managedFields"][0]["manager"] == MANAGER
    assert [ns["metadata"]["name"] for ns in gateway.list("v1", "Namespace", label_selector="owner=me")] == [
        "team"
    ]

    intruder = KubeGateway(ClusterAccess(api_url=secured.url, token="guess"), field_manager=MANAGER)
    with pytest.raises(KubeApiError) as refused:
        intruder.list("v1", "Namespace")
    assert refused.value.status == 401


def test_kubeconfig_text_and_its_contexts(secured):
    text = kubeconfig(secured.url, "the-token")
    gateway = KubeGateway(ClusterAccess(kubeconfig=text), field_manager=MANAGER)
    gateway.apply(namespace("team"))
    assert gateway.get("v1", "Namespace", "team") is not None

    other_context = KubeGateway(ClusterAccess(kubeconfig=text, context="wrong-user"), field_manager=MANAGER)
    with pytest.raises(KubeApiError):
        other_context.get("v1", "Namespace", "team")


def test_a_ca_bundle_is_written_for_the_client_and_removed_on_close(kube_emulator):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    gateway = KubeGateway(ClusterAccess(api_url=kube_emulator.url, ca_pem=pem), field_manager=MANAGER)
    path = str(gateway._built.configuration.ssl_ca_cert)
    with open(path) as handle:
        assert handle.read() == pem
    gateway.close()
    assert not os.path.exists(path)


@pytest.mark.parametrize(
    ("access", "says"),
    [
        (ClusterAccess(), "No way to reach the cluster"),
        (ClusterAccess(kubeconfig="clusters: [unclosed"), "not valid YAML"),
        (ClusterAccess(kubeconfig="- a list"), "not a YAML mapping"),
        (
            ClusterAccess(kubeconfig=kubeconfig("http://x", "t"), context="missing"),
            "context .missing. is not among",
        ),
        (ClusterAccess(in_cluster=True), r"cannot be used \(in-cluster\)"),
    ],
)
def test_unusable_access_settings_say_why(access, says):
    with pytest.raises(KubeConfigError, match=says):
        KubeGateway(access, field_manager=MANAGER)


def test_an_unreachable_api_server():
    gateway = KubeGateway(ClusterAccess(api_url="http://127.0.0.1:1"), field_manager=MANAGER, timeout=2)
    with pytest.raises(KubeUnreachable, match="could not be reached"):
        gateway.list("v1", "Namespace")


def test_get_and_delete_of_what_is_not_there(kube_emulator):
    gateway = KubeGateway(ClusterAccess(api_url=kube_emulator.url), field_manager=MANAGER)
    assert gateway.get("v1", "ConfigMap", "nothing", "team") is None
    assert gateway.delete("v1", "ConfigMap", "nothing", "team") is False
    gateway.apply(namespace("team"))
    gateway.apply(config_map("here"))
    assert gateway.delete("v1", "ConfigMap", "here", "team") is True


def test_long_lists_are_read_page_by_page(kube_emulator):
    gateway = KubeGateway(ClusterAccess(api_url=kube_emulator.url), field_manager=MANAGER)
    gateway.apply(namespace("team"))
    for n in range(LIST_PAGE_SIZE + 20):
        gateway.apply(config_map(f"cm-{n:04}", mine="yes"))
    gateway.apply(config_map("other"))
    kube_emulator.reset_stats()

    listed = gateway.list("v1", "ConfigMap", namespace="team", label_selector="mine=yes")
    assert len(listed) == LIST_PAGE_SIZE + 20
    assert {obj["kind"] for obj in listed} == {"ConfigMap"}
    assert kube_emulator.stats()["by_kind"]["ConfigMap"] == {"list": 2}


def test_other_kinds_are_found_through_discovery_once(kube_emulator):
    gateway = KubeGateway(ClusterAccess(api_url=kube_emulator.url), field_manager=MANAGER)
    gateway.apply(namespace("team"))
    assert gateway.list("v1", "Event", namespace="team") == []
    assert gateway.list("v1", "Event", namespace="team") == []
    assert kube_emulator.stats()["discovery"] == 1
    with pytest.raises(KubeApiError, match=r"does not serve example\.com/v1"):
        gateway.list("example.com/v1", "Gizmo")
    with pytest.raises(KubeApiError, match="does not serve Gizmo in v1"):
        gateway.list("v1", "Gizmo")


def test_server_side_apply_takes_fields_back_from_another_manager(kube_emulator):
    gateway = KubeGateway(ClusterAccess(api_url=kube_emulator.url), field_manager=MANAGER)
    other = KubeGateway(ClusterAccess(api_url=kube_emulator.url), field_manager="someone")
    gateway.apply(namespace("team"))
    gateway.apply(config_map("cm"))
    other.apply({**config_map("cm"), "data": {"k": "theirs"}})
    assert gateway.apply(config_map("cm"))["data"] == {"k": "v"}


def test_gateways_are_shared_per_access():
    close_gateways()
    first = gateway_for(ClusterAccess(api_url="http://127.0.0.1:1"), field_manager=MANAGER)
    assert gateway_for(ClusterAccess(api_url="http://127.0.0.1:1"), field_manager=MANAGER) is first
    assert gateway_for(ClusterAccess(api_url="http://127.0.0.1:2"), field_manager=MANAGER) is not first
    assert "token" not in repr(ClusterAccess(api_url="http://x", token="secret-token"))
    close_gateways()
