"""PodDisruptionBudgets for highly available stacks (topology spread lives in the pod templates)."""

from __future__ import annotations

from provisioning.rendering.labels import selector_labels
from provisioning.rendering.names import HARBOR_COMPONENTS, TRIVY, object_name
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.spec import StackSpec


def render_pdb(spec: StackSpec, component: str) -> Object:
    """At most one pod of ``component`` down at a time; a crash-looping pod never blocks a node drain."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": metadata(spec, component, object_name(spec, component)),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": selector_labels(spec, component)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def render_pdbs(spec: StackSpec) -> list[Object]:
    if not spec.ha:
        return []
    return [
        render_pdb(spec, component)
        for component in HARBOR_COMPONENTS
        if component != TRIVY or spec.trivy_enabled
    ]
