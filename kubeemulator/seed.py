"""The "installed cluster" the emulator starts with, unless it is asked for a bare one.

What a provider's cluster has before the console arrives: the usual namespaces; the ``kubernetes`` and
``kube-dns`` Services; an ingress controller's IngressClass ``nginx``; a default StorageClass ``standard`` that
allows expansion; cert-manager's CRDs (Certificate, Issuer, ClusterIssuer) and a ``letsencrypt`` ClusterIssuer that
solves HTTP-01 through ingress class ``nginx``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .kinds import kind_named

if TYPE_CHECKING:
    from .store import Store

INSTALLER = "kubeadm"
NAMESPACES = (
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "ingress-nginx",
    "cert-manager",
    "monitoring",
)
CERT_MANAGER_KINDS = (("Certificate", "certificates", "Namespaced", ("cert", "certs")),
                      ("Issuer", "issuers", "Namespaced", ()),
                      ("ClusterIssuer", "clusterissuers", "Cluster", ()))  # fmt: skip


def crd_manifest(kind: str, plural: str, scope: str, short_names: tuple[str, ...] = ()) -> dict[str, Any]:
    """cert-manager's CustomResourceDefinition of ``kind`` (schema left open)."""
    names: dict[str, Any] = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "categories": ["cert-manager"],
    }
    if short_names:
        names["shortNames"] = list(short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.cert-manager.io",
            "labels": {
                "app.kubernetes.io/name": "cert-manager",
                "app.kubernetes.io/instance": "cert-manager",
            },
        },
        "spec": {
            "group": "cert-manager.io",
            "names": names,
            "scope": scope,
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                    },
                }
            ],
        },
    }


def _service(
    namespace: str,
    name: str,
    cluster_ip: str,
    labels: dict[str, str],
    ports: list[dict[str, Any]],
    selector: dict[str, str] | None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"clusterIP": cluster_ip, "ports": ports}
    if selector:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def seed_objects() -> list[dict[str, Any]]:
    """Every object of the installed cluster, in creation order."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}} for name in NAMESPACES
    ]
    objects.append(
        _service(
            "default",
            "kubernetes",
            "10.96.0.1",
            {"component": "apiserver", "provider": "kubernetes"},
            [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            None,
        )
    )
    objects.append(
        _service(
            "kube-system",
            "kube-dns",
            "10.96.0.10",
            {"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"},
            [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
            {"k8s-app": "kube-dns"},
        )
    )
    objects.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "kubeemulator.io/hostpath",
            "allowVolumeExpansion": True,
        }
    )
    objects.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "IngressClass",
            "metadata": {
                "name": "nginx",
                "labels": {
                    "app.kubernetes.io/name": "ingress-nginx",
                    "app.kubernetes.io/component": "controller",
                },
            },
            "spec": {"controller": "k8s.io/ingress-nginx"},
        }
    )
    objects += [crd_manifest(*each) for each in CERT_MANAGER_KINDS]
    objects.append(
        {
            "apiVersion": "cert-manager.io/v1",
            "kind": "ClusterIssuer",
            "metadata": {"name": "letsencrypt"},
            "spec": {
                "acme": {
                    "server": "https://acme-v02.api.letsencrypt.org/directory",
                    "email": "hostmaster@example.com",
                    "privateKeySecretRef": {"name": "letsencrypt-account-key"},
                    "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}],
                }
            },
        }
    )
    return objects


def install(store: Store) -> None:
    """Create the installed cluster's objects (as its installers would), letting controllers settle them."""
    with store.lock:
        for obj in seed_objects():
            kind = kind_named(obj["kind"])
            store.system_create(kind, obj, INSTALLER)
            store.settle()
