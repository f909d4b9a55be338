"""Exports of a registry's stack for people: the manifests as YAML and Helm values, never a secret in them."""

from __future__ import annotations

import yaml

from provisioning.models import Registry
from provisioning.reconcile.redaction import redact
from provisioning.reconcile.spec import build_spec, desired_objects
from provisioning.rendering import render_helm_values, render_yaml


def export_manifests_yaml(registry: Registry) -> str:
    """Every object of the stack as multi-document YAML, in apply order, each Secret value ``<redacted>``.

    Raises ``InvalidSpec`` when the stack cannot be rendered yet (e.g. its database is not provisioned).
    """
    return render_yaml([redact(obj) for obj in desired_objects(registry)])


def export_helm_values(registry: Registry) -> str:
    """Values for goharbor/harbor-helm describing the stack (rendering redacts every secret) as YAML."""
    values = render_helm_values(build_spec(registry))
    return yaml.safe_dump(values, sort_keys=False, default_flow_style=False)
