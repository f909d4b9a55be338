"""Harbor rendering: pure functions from a ``StackSpec`` to the Kubernetes objects of one tenant's Harbor.

No Django, database, network, clock or randomness: the same spec always renders byte-identical output.
"""

from provisioning.rendering.export import REDACTED, render_helm_values, render_yaml
from provisioning.rendering.immutable import RECREATE_EDITS, immutable_changes
from provisioning.rendering.labels import (
    COMPONENT_LABEL,
    INSTALLATION_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    MANAGER,
    NAME_LABEL,
    REGISTRY_ID_LABEL,
    TENANT_LABEL,
    VERSION_LABEL,
    legacy_ownership_selector,
    ownership_selector,
)
from provisioning.rendering.network import Endpoint, external_endpoints
from provisioning.rendering.objects import config_checksums, content_hash
from provisioning.rendering.requirements import Requirements, required_quota
from provisioning.rendering.spec import (
    CacheSpec,
    ComponentSet,
    ComponentSpec,
    DatabaseSpec,
    HarborSecrets,
    StackSpec,
    StorageSpec,
)
from provisioning.rendering.stack import (
    RENDERED_KINDS,
    apply_order,
    object_apply_order,
    render_stack,
    stack_requirements,
)
from provisioning.rendering.versions import SUPPORTED_MINORS, HarborRelease, check_upgrade, harbor_release

__all__ = [
    "COMPONENT_LABEL",
    "INSTALLATION_LABEL",
    "INSTANCE_LABEL",
    "MANAGED_BY_LABEL",
    "MANAGER",
    "NAME_LABEL",
    "RECREATE_EDITS",
    "REDACTED",
    "REGISTRY_ID_LABEL",
    "RENDERED_KINDS",
    "SUPPORTED_MINORS",
    "TENANT_LABEL",
    "VERSION_LABEL",
    "CacheSpec",
    "ComponentSet",
    "ComponentSpec",
    "DatabaseSpec",
    "Endpoint",
    "HarborRelease",
    "HarborSecrets",
    "Requirements",
    "StackSpec",
    "StorageSpec",
    "apply_order",
    "check_upgrade",
    "config_checksums",
    "content_hash",
    "external_endpoints",
    "harbor_release",
    "immutable_changes",
    "legacy_ownership_selector",
    "object_apply_order",
    "ownership_selector",
    "render_helm_values",
    "render_stack",
    "render_yaml",
    "required_quota",
    "stack_requirements",
]
