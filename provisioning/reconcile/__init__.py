"""Reconciliation: bring each registry's stack on its cluster to what the database says, one run at a time.

``reconcile(registry_id)`` is the entry point (the Celery task and the ``reconcile`` command call it);
``export_manifests_yaml`` and ``export_helm_values`` print a stack with its secrets redacted.
"""

from provisioning.reconcile.engine import Outcome, cluster_access, cluster_gateway, reconcile
from provisioning.reconcile.errors import Failure, InvalidSpec, classify
from provisioning.reconcile.export import export_helm_values, export_manifests_yaml

__all__ = [
    "Failure",
    "InvalidSpec",
    "Outcome",
    "classify",
    "cluster_access",
    "cluster_gateway",
    "export_helm_values",
    "export_manifests_yaml",
    "reconcile",
]
