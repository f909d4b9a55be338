"""Labels every rendered object carries, and the selector that finds a registry's objects again."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.rendering.spec import StackSpec

NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"
COMPONENT_LABEL = "app.kubernetes.io/component"
VERSION_LABEL = "app.kubernetes.io/version"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
REGISTRY_ID_LABEL = "harbor-console.io/registry-id"
TENANT_LABEL = "harbor-console.io/tenant"

APP_NAME = "harbor"
MANAGER = "harbor-console"

OWNERSHIP_LABELS = (MANAGED_BY_LABEL, REGISTRY_ID_LABEL)


def ownership_selector(registry_id: int) -> str:
    """Label selector (``key=value,...``) matching every object the console owns for one registry."""
    return f"{MANAGED_BY_LABEL}={MANAGER},{REGISTRY_ID_LABEL}={registry_id}"


def selector_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """The stable subset used in selectors (never the version: selectors are immutable)."""
    return {NAME_LABEL: APP_NAME, INSTANCE_LABEL: spec.instance, COMPONENT_LABEL: component}


def object_labels(spec: StackSpec, component: str) -> dict[str, str]:
    """All labels of an object of ``component``."""
    return {
        NAME_LABEL: APP_NAME,
        INSTANCE_LABEL: spec.instance,
        COMPONENT_LABEL: component,
        VERSION_LABEL: spec.harbor_version,
        MANAGED_BY_LABEL: MANAGER,
        REGISTRY_ID_LABEL: str(spec.registry_id),
        TENANT_LABEL: spec.tenant,
    }
