"""The installed cluster the emulator starts as, and kinds served only while their CustomResourceDefinition exists."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kubeemulator import KubeEmulator
from kubeemulator.seed import crd_manifest
from tests.kubeemulator.emulator_helpers import APPLY, certificate

CERTIFICATE = certificate()


@pytest.fixture
def bare():
    with KubeEmulator(bare=True) as emulator:
        yield emulator


def groups(api: client.ApiClient) -> set[str]:
    return {group.name for group in client.ApisApi(api).get_api_versions().groups}


def test_an_installed_cluster_has_what_a_provider_set_up(api: Any, core: Any) -> None:
    assert {"cert-manager.io", "storage.k8s.io", "apiextensions.k8s.io", "networking.k8s.io"} <= groups(api)
    assert {ns.metadata.name for ns in core.list_namespace().items} >= {
        "default",
        "kube-system",
        "ingress-nginx",
        "monitoring",
        "cert-manager",
    }
    dns = core.read_namespaced_service("kube-dns", "kube-system")
    assert dns.metadata.labels["k8s-app"] == "kube-dns"
    assert {(p.port, p.protocol) for p in dns.spec.ports} >= {(53, "UDP"), (53, "TCP")}

    classes: Any = client.StorageV1Api(api).list_storage_class().items
    assert [
        (c.metadata.name, c.metadata.annotations["storageclass.kubernetes.io/is-default-class"])
        for c in classes
    ] == [("standard", "true")]
    ingress_classes: Any = client.NetworkingV1Api(api).list_ingress_class().items
    assert [c.metadata.name for c in ingress_classes] == ["nginx"]

    issuer: Any = client.CustomObjectsApi(api).get_cluster_custom_object(
        "cert-manager.io", "v1", "clusterissuers", "letsencrypt"
    )
    assert issuer["spec"]["acme"]["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
    assert [(c["type"], c["status"]) for c in issuer["status"]["conditions"]] == [("Ready", "True")]
    crds: Any = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    assert {c.metadata.name for c in crds} == {
        "certificates.cert-manager.io",
        "issuers.cert-manager.io",
        "clusterissuers.cert-manager.io",
    }
    assert all(("Established", "True") in {(k.type, k.status) for k in c.status.conditions} for c in crds)


def test_without_its_crd_a_kind_is_not_served(bare):
    api = client.ApiClient(bare.configuration())
    custom: Any = client.CustomObjectsApi(api)
    core: Any = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "tenant-a"}})

    assert "cert-manager.io" not in groups(api)
    for path in ("/apis/cert-manager.io", "/apis/cert-manager.io/v1"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{bare.url}{path}", timeout=5)
        assert refused.value.code == 404
    for call in (
        lambda: custom.list_namespaced_custom_object("cert-manager.io", "v1", "tenant-a", "certificates"),
        lambda: custom.patch_namespaced_custom_object(
            "cert-manager.io",
            "v1",
            "tenant-a",
            "certificates",
            "tls",
            CERTIFICATE,
            field_manager="m",
            _content_type=APPLY,
        ),
    ):
        with pytest.raises(ApiException) as caught:
            call()
        body = json.loads(caught.value.body or "{}")
        assert (caught.value.status, body["reason"]) == (404, "NotFound")
        assert body["message"] == "the server could not find the requested resource"


def test_a_crd_installed_later_serves_its_kind_and_takes_its_objects_along_when_removed(bare):
    api = client.ApiClient(bare.configuration())
    extensions: Any = client.ApiextensionsV1Api(api)
    custom: Any = client.CustomObjectsApi(api)
    core: Any = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "tenant-a"}})

    extensions.create_custom_resource_definition(crd_manifest("Certificate", "certificates", "Namespaced"))
    assert "cert-manager.io" in groups(api)
    custom.create_namespaced_custom_object("cert-manager.io", "v1", "tenant-a", "certificates", CERTIFICATE)
    assert (
        len(
            custom.list_namespaced_custom_object("cert-manager.io", "v1", "tenant-a", "certificates")["items"]
        )
        == 1
    )

    extensions.delete_custom_resource_definition("certificates.cert-manager.io")

    assert "cert-manager.io" not in groups(api)
    assert bare.objects("Certificate") == []
    extensions.create_custom_resource_definition(crd_manifest("Certificate", "certificates", "Namespaced"))
    assert (
        custom.list_namespaced_custom_object("cert-manager.io", "v1", "tenant-a", "certificates")["items"]
        == []
    )


def test_the_version_is_configurable():
    with KubeEmulator(kubernetes_version="v1.31.4", bare=True) as emulator:
        version = client.VersionApi(client.ApiClient(emulator.configuration())).get_code()
    assert (version.git_version, version.major, version.minor) == ("v1.31.4", "1", "31")
    with pytest.raises(ValueError, match=r"looks like v1\.33\.0"):
        KubeEmulator(kubernetes_version="latest")


def test_a_reset_brings_the_installed_cluster_back(emulator, core, namespace):
    emulator.reset()

    names = {ns.metadata.name for ns in core.list_namespace().items}
    assert namespace not in names and "kube-system" in names
    assert core.read_namespaced_service("kube-dns", "kube-system").spec.cluster_ip == "10.96.0.10"
