"""The tenant's namespace (Pod Security ``restricted``), its ResourceQuota and LimitRange."""

from __future__ import annotations

from provisioning.rendering.labels import object_labels
from provisioning.rendering.names import NAMESPACE, QUOTA, object_name
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.spec import StackSpec

POD_SECURITY_LEVEL = "restricted"
STORAGE_QUOTA_ANNOTATION = "harbor-console.io/storage-quota-bytes"


def render_namespace(spec: StackSpec) -> Object:
    labels = object_labels(spec, NAMESPACE)
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = POD_SECURITY_LEVEL
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": spec.namespace,
            "labels": labels,
            "annotations": {STORAGE_QUOTA_ANNOTATION: str(spec.storage_quota_bytes)},
        },
    }


def render_resourcequota(spec: StackSpec) -> Object:
    quota = spec.quota
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(spec, QUOTA, object_name(spec, QUOTA)),
        "spec": {
            "hard": {
                "requests.cpu": quota.cpu_requests,
                "limits.cpu": quota.cpu_limits,
                "requests.memory": quota.memory_requests,
                "limits.memory": quota.memory_limits,
                "pods": str(quota.pods),
                "requests.storage": quota.storage,
                "persistentvolumeclaims": str(quota.persistent_volume_claims),
            }
        },
    }


def render_limitrange(spec: StackSpec) -> Object:
    quota = spec.quota
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(spec, QUOTA, object_name(spec, "limits")),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": {
                        "cpu": quota.default_cpu_request,
                        "memory": quota.default_memory_request,
                    },
                    "default": {"cpu": quota.default_cpu_limit, "memory": quota.default_memory_limit},
                }
            ]
        },
    }
