"""Where each kind lives in the API: group, version, plural and scope.

Built-in kinds the console uses are listed here; any other kind is looked up once through API discovery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One REST resource of the Kubernetes API."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.rpartition("/")[0]

    @property
    def version(self) -> str:
        return self.api_version.rpartition("/")[2]

    @property
    def prefix(self) -> str:
        return f"/apis/{self.api_version}" if self.group else f"/api/{self.api_version}"

    def collection_path(self, namespace: str = "") -> str:
        if self.namespaced and namespace:
            return f"{self.prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.prefix}/{self.plural}"

    def object_path(self, name: str, namespace: str = "") -> str:
        return f"{self.collection_path(namespace if self.namespaced else '')}/{name}"


WELL_KNOWN: Mapping[tuple[str, str], Resource] = {
    (r.api_version, r.kind): r
    for r in (
        Resource("v1", "Namespace", "namespaces", namespaced=False),
        Resource("v1", "Secret", "secrets"),
        Resource("v1", "ConfigMap", "configmaps"),
        Resource("v1", "Service", "services"),
        Resource("v1", "ServiceAccount", "serviceaccounts"),
        Resource("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
        Resource("v1", "ResourceQuota", "resourcequotas"),
        Resource("v1", "LimitRange", "limitranges"),
        Resource("v1", "Pod", "pods"),
        Resource("apps/v1", "Deployment", "deployments"),
        Resource("apps/v1", "StatefulSet", "statefulsets"),
        Resource("batch/v1", "Job", "jobs"),
        Resource("networking.k8s.io/v1", "Ingress", "ingresses"),
        Resource("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies"),
        Resource("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets"),
        Resource("rbac.authorization.k8s.io/v1", "Role", "roles"),
        Resource("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
        Resource("apps/v1", "ReplicaSet", "replicasets"),
        Resource("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False),
        Resource("networking.k8s.io/v1", "IngressClass", "ingressclasses", namespaced=False),
        Resource(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "customresourcedefinitions",
            namespaced=False,
        ),
        Resource("cert-manager.io/v1", "Certificate", "certificates"),
        Resource("cert-manager.io/v1", "Issuer", "issuers"),
        Resource("cert-manager.io/v1", "ClusterIssuer", "clusterissuers", namespaced=False),
    )
}


def resources_from_discovery(api_version: str, document: Mapping[str, Any]) -> dict[str, Resource]:
    """Kind → resource of an ``APIResourceList`` (subresources such as ``deployments/status`` left out)."""
    found: dict[str, Resource] = {}
    for item in document.get("resources") or []:
        name = str(item.get("name", ""))
        if not name or "/" in name:
            continue
        found[str(item["kind"])] = Resource(
            api_version, str(item["kind"]), name, bool(item.get("namespaced"))
        )
    return found


ObjectKey = tuple[str, str, str, str]
"""``(apiVersion, kind, namespace, name)`` of one object."""


def object_key(obj: Mapping[str, Any]) -> ObjectKey:
    metadata = obj.get("metadata") or {}
    return (
        str(obj.get("apiVersion", "")),
        str(obj.get("kind", "")),
        str(metadata.get("namespace", "")),
        str(metadata.get("name", "")),
    )
