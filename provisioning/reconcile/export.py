"""Exports of a registry's stack for people: the manifests as YAML and Helm values, never a secret in them.

Exports only read: a registry whose generated secrets do not exist yet (they are made by its first reconcile) is
rendered with placeholders in their place, so looking at a stack never changes it.
"""

from __future__ import annotations

import yaml

from provisioning.models import Registry, SecretName
from provisioning.reconcile.redaction import redact
from provisioning.reconcile.spec import build_spec, desired_objects
from provisioning.rendering import REDACTED, render_helm_values, render_yaml

PLACEHOLDERS: dict[str, str] = {
    SecretName.CORE_SECRET: REDACTED.ljust(16, "*"),
    SecretName.JOBSERVICE_SECRET: REDACTED,
    SecretName.REGISTRY_HTTP_SECRET: REDACTED,
    SecretName.CSRF_KEY: REDACTED.ljust(32, "*"),
    SecretName.SECRET_KEY: REDACTED.ljust(16, "*"),
    SecretName.TOKEN_PRIVATE_KEY: f"-----BEGIN PRIVATE KEY-----\n{REDACTED}\n-----END PRIVATE KEY-----\n",
    SecretName.TOKEN_CERTIFICATE: f"-----BEGIN CERTIFICATE-----\n{REDACTED}\n-----END CERTIFICATE-----\n",
    SecretName.ADMIN_PASSWORD: REDACTED,
    SecretName.REGISTRY_PASSWORD: REDACTED,
    SecretName.REGISTRY_HTPASSWD: f"harbor_registry_user:$2b${REDACTED}",
}
"""Stand-ins of the same shape as the generated values, for secrets not generated yet."""


def stored_secrets(registry: Registry) -> dict[str, str]:
    """The registry's generated secrets as stored, a placeholder for each one missing; nothing is written."""
    values = dict(PLACEHOLDERS)
    values.update((secret.name, secret.value) for secret in registry.secrets.all())
    return values


def export_manifests_yaml(registry: Registry) -> str:
    """Every object of the stack as multi-document YAML, in apply order, each Secret value ``<redacted>``.

    Raises ``InvalidSpec`` when the stack cannot be rendered yet (e.g. its database is not provisioned).
    """
    return render_yaml([redact(obj) for obj in desired_objects(registry, stored_secrets(registry))])


def export_helm_values(registry: Registry) -> str:
    """Values for goharbor/harbor-helm describing the stack (rendering redacts every secret) as YAML."""
    values = render_helm_values(build_spec(registry, stored_secrets(registry), resolver=None))
    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
