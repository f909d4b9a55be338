"""Labels every rendered object carries, and the selector that finds a registry's objects again.

Ownership is three labels: the manager, this console installation's id and the registry id. Registry ids are small
integers in every installation, so two consoles sharing a cluster tell their objects apart by the installation label.
Selectors of workloads are immutable: they use only ``selector_labels``, which nothing editable changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.rendering.spec import StackSpec

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
VERSION_LABEL = "app.kubernetes.io/version"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
INSTALLATION_LABEL = "harbor-console.io/installation"
REGISTRY_ID_LABEL = "harbor-console.io/registry-id"
TENANT_LABEL = "harbor-console.io/tenant"

APP_NAME = "harbor"
MANAGER = "harbor-console"

OWNERSHIP_LABELS = (MANAGED_BY_LABEL, INSTALLATION_LABEL, REGISTRY_ID_LABEL)


def ownership_selector(registry_id: int, installation: str) -> str:
    """Label selector (``key=value,...``) matching every object one installation owns for one registry."""
    return (
        f"{MANAGED_BY_LABEL}={MANAGER},{INSTALLATION_LABEL}={installation},{REGISTRY_ID_LABEL}={registry_id}"
    )


def legacy_ownership_selector(registry_id: int) -> str:
    """Objects a console labelled for this registry before installation labels existed (no installation label).

    After an upgrade, objects the stack still renders gain the label with their next apply; objects it no longer
    renders (NetworkPolicies of the old shape) are found only by this selector, inside the namespaces this
    installation owns, to be pruned once.
    """
    return f"{MANAGED_BY_LABEL}={MANAGER},{REGISTRY_ID_LABEL}={registry_id},!{INSTALLATION_LABEL}"


def selector_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """The stable subset used in selectors (never the version: selectors are immutable)."""
    return {NAME_LABEL: APP_NAME, INSTANCE_LABEL: spec.instance, COMPONENT_LABEL: component}


def pod_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """Labels of pod templates: the object labels without the installation, which pods need not carry (the
    console never lists pods) and which would otherwise roll every pod of the fleet when it was introduced."""
    return {
        NAME_LABEL: APP_NAME,
        INSTANCE_LABEL: spec.instance,
        COMPONENT_LABEL: component,
        VERSION_LABEL: spec.harbor_version,
        MANAGED_BY_LABEL: MANAGER,
        REGISTRY_ID_LABEL: str(spec.registry_id),
        TENANT_LABEL: spec.tenant,
    }


def claim_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """Labels of StatefulSet claim templates, which are immutable: only what never changes for a registry."""
    return {
        NAME_LABEL: APP_NAME,
        INSTANCE_LABEL: spec.instance,
        COMPONENT_LABEL: component,
        MANAGED_BY_LABEL: MANAGER,
        REGISTRY_ID_LABEL: str(spec.registry_id),
        TENANT_LABEL: spec.tenant,
    }


def object_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """All labels of an object of ``component``."""
    labels = pod_labels(spec, component)
    labels[INSTALLATION_LABEL] = spec.installation
    return labels
