"""The tenant's namespace (Pod Security ``restricted``), its ResourceQuota and LimitRange.

The quota is what the rendered stack needs at its peak (``requirements.required_quota``), so every plan, version and
option fits by construction. The LimitRange gives containers that state nothing (cert-manager's solver, should its
resources be unset) the solver's defaults, and caps any container at the stack's largest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.rendering.labels import object_labels
from provisioning.rendering.names import NAMESPACE, QUOTA, object_name
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.requirements import SOLVER_RESOURCES, Requirements, largest_container
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


def render_resourcequota(spec: StackSpec, requirements: Requirements) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": metadata(spec, QUOTA, object_name(spec, QUOTA)),
        "spec": {"hard": requirements.hard()},
    }


def render_limitrange(spec: StackSpec, workloads: Iterable[Mapping[str, Any]]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": metadata(spec, QUOTA, object_name(spec, "limits")),
        "spec": {
            "limits": [
                {
                    "type": "Container",
                    "defaultRequest": dict(SOLVER_RESOURCES["requests"]),
                    "default": dict(SOLVER_RESOURCES["limits"]),
                    "max": largest_container(workloads),
                }
            ]
        },
    }
