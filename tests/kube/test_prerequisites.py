"""``check_prerequisites`` against the emulator: what a stack needs from a cluster, present, absent or unknown."""

from __future__ import annotations

import pytest

from kubeemulator import KubeEmulator
from provisioning.kube import ClusterAccess, KubeApiError, KubeGateway
from provisioning.kube.prerequisites import check_prerequisites

MANAGER = "harbor-console"


def gateway_of(emulator: KubeEmulator) -> KubeGateway:
    return KubeGateway(ClusterAccess(api_url=emulator.url), field_manager=MANAGER, timeout=3)


@pytest.fixture
def installed():
    with KubeEmulator() as emulator:
        yield emulator


@pytest.fixture
def bare():
    with KubeEmulator(bare=True) as emulator:
        yield emulator


def by_kind(report) -> dict[str, dict]:
    return {item["kind"]: item for item in report.items}


def test_an_installed_cluster_has_everything_a_stack_needs(installed):
    report = check_prerequisites(gateway_of(installed), ingress_class="nginx", cluster_issuer="letsencrypt")

    assert report.ready is True and report.missing() == []
    assert [(i["kind"], i["name"], i["present"]) for i in report.items] == [
        ("CustomResourceDefinition", "certificates.cert-manager.io", True),
        ("IngressClass", "nginx", True),
        ("StorageClass", "standard", True),
        ("ClusterIssuer", "letsencrypt", True),
        ("Service", "kube-system/kube-dns", True),
    ]
    assert all(set(item) == {"kind", "name", "present", "message"} for item in report.items)
    assert "cluster default" in by_kind(report)["StorageClass"]["message"]
    assert (report.http01_ingress, report.http01_ingress_class) == (True, "nginx")
    assert report.dns is not None
    assert (report.dns.namespace, report.dns.name, report.dns.cluster_ip) == (
        "kube-system",
        "kube-dns",
        "10.96.0.10",
    )
    assert {(53, "UDP"), (53, "TCP")} <= set(report.dns.ports)
    assert report.dns.selector == {"k8s-app": "kube-dns"}


def test_a_bare_cluster_misses_each_of_them_by_name(bare):
    report = check_prerequisites(gateway_of(bare), ingress_class="nginx", cluster_issuer="letsencrypt")

    assert report.ready is False
    items = by_kind(report)
    assert items["CustomResourceDefinition"]["present"] is False
    assert "install cert-manager" in items["CustomResourceDefinition"]["message"]
    assert items["IngressClass"] == {
        "kind": "IngressClass",
        "name": "nginx",
        "present": False,
        "message": "IngressClass nginx does not exist: create it, or change the cluster's ingress class.",
    }
    assert items["StorageClass"]["present"] is False and "default" in items["StorageClass"]["message"]
    assert items["ClusterIssuer"]["present"] is False
    assert "clusterissuers.cert-manager.io is not installed" in items["ClusterIssuer"]["message"]
    assert items["Service"]["present"] is False
    assert report.http01_ingress is None and report.dns is None


def test_a_crd_removed_later_is_seen_missing_and_its_kind_stops_being_served(installed):
    gateway = gateway_of(installed)
    assert check_prerequisites(gateway, ingress_class="nginx").ready is True
    gateway.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "certificates.cert-manager.io")

    report = check_prerequisites(gateway, ingress_class="nginx")

    assert by_kind(report)["CustomResourceDefinition"]["present"] is False
    assert report.ready is False
    with pytest.raises(KubeApiError) as missing:
        gateway.list("cert-manager.io/v1", "Certificate", namespace="default")
    assert (missing.value.status, missing.value.message) == (
        404,
        "the server could not find the requested resource",
    )


def test_a_missing_issuer_and_one_that_does_not_solve_http01(installed):
    gateway = gateway_of(installed)
    missing = check_prerequisites(gateway, cluster_issuer="corporate-ca")
    issuer = by_kind(missing)["ClusterIssuer"]
    assert (issuer["name"], issuer["present"]) == ("corporate-ca", False)
    assert (
        issuer["message"]
        == "ClusterIssuer corporate-ca does not exist: create it, or change the cluster's issuer."
    )

    gateway.apply(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": "corporate-ca"},
            "spec": {"ca": {"secretName": "corporate-ca"}},
        }
    )
    present = check_prerequisites(gateway, cluster_issuer="corporate-ca")
    assert by_kind(present)["ClusterIssuer"]["present"] is True
    assert (present.http01_ingress, present.http01_ingress_class) == (False, "")


def test_what_the_console_may_not_read_is_unknown_never_absent(installed):
    installed.set_faults(codes=(403,), kinds=("IngressClass", "ClusterIssuer"))

    report = check_prerequisites(gateway_of(installed), ingress_class="nginx", cluster_issuer="letsencrypt")

    items = by_kind(report)
    for kind in ("IngressClass", "ClusterIssuer"):
        assert items[kind]["present"] is None
        assert "403 Forbidden" in items[kind]["message"] and "could not be checked" in items[kind]["message"]
    assert items["StorageClass"]["present"] is True
    assert report.ready is None and report.http01_ingress is None


def test_an_unreachable_cluster_leaves_everything_unknown():
    gateway = KubeGateway(ClusterAccess(api_url="http://127.0.0.1:1"), field_manager=MANAGER, timeout=2)

    report = check_prerequisites(gateway, ingress_class="nginx", cluster_issuer="letsencrypt")

    assert report.ready is None
    assert {item["present"] for item in report.items} == {None}
    assert all("did not answer" in item["message"] for item in report.items)


def test_the_cluster_dns_is_found_where_it_runs(bare):
    gateway = gateway_of(bare)
    gateway.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "dns-system"}})
    gateway.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "coredns", "namespace": "dns-system", "labels": {"k8s-app": "kube-dns"}},
            "spec": {
                "selector": {"app": "coredns"},
                "ports": [{"port": 53, "protocol": "UDP", "name": "dns"}],
            },
        }
    )

    report = check_prerequisites(gateway, crds=())

    dns = by_kind(report)["Service"]
    assert (dns["name"], dns["present"]) == ("dns-system/coredns", True)
    assert dns["message"].startswith(
        "Not at kube-system/kube-dns: the cluster DNS Service is dns-system/coredns"
    )
    assert report.dns is not None and report.dns.ports == ((53, "UDP"),)
