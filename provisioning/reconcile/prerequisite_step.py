"""The prerequisite step of a run: what the stack needs from its cluster, checked before anything is written.

A registry's stack needs cert-manager's Certificate CRD, the cluster's ClusterIssuer, IngressClass and StorageClass
(``provisioning.kube.prerequisites``). The result is kept on the ``Cluster`` row (``prerequisites``, the same list
cluster saves write) and reused by every run of the cluster while it is younger than ``PREREQUISITES_TTL`` and says
nothing is absent, so a converged fleet costs no request for it; a LIST answered 404 (a CRD gone) checks again at
once. An absent item stops the run with
``PrerequisiteMissing`` (named, the provider's move, not retried: the sweep looks again); an item that could not be
checked is Unknown and stops nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from provisioning.kube import KubeGateway
from provisioning.kube.prerequisites import PrerequisiteReport, check_prerequisites
from provisioning.models import Cluster
from provisioning.reconcile.errors import PrerequisiteMissing

PREREQUISITES_TTL = timedelta(minutes=5)
"""How long a check that found nothing absent is trusted by the runs of its cluster."""
BLOCKING_KINDS = frozenset({"CustomResourceDefinition", "ClusterIssuer", "IngressClass", "StorageClass"})
"""What a stack cannot run without (the DNS Service item only tells rendering where DNS answers)."""


def cluster_prerequisites(gateway: KubeGateway, cluster: Cluster) -> PrerequisiteReport:
    """Check what ``cluster``'s settings name (an empty storage class: the cluster's default one)."""
    return check_prerequisites(
        gateway,
        ingress_class=cluster.ingress_class,
        storage_class=cluster.storage_class,
        cluster_issuer=cluster.cert_issuer,
        dns_service=f"{cluster.dns_namespace or 'kube-system'}/kube-dns",
    )


def absent(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items a stack cannot run without that were found absent (never those that could not be checked)."""
    return [item for item in items if item.get("present") is False and item.get("kind") in BLOCKING_KINDS]


def _fresh(cluster: Cluster, now: datetime) -> bool:
    checked = cluster.prerequisites_checked_at
    return (
        checked is not None
        and now - checked < PREREQUISITES_TTL
        and bool(cluster.prerequisites)
        and not absent(cluster.prerequisites)
    )


def record_prerequisites(cluster: Cluster, items: list[dict[str, Any]], now: datetime) -> None:
    """Store what was found on the cluster's row (and on ``cluster``)."""
    Cluster.objects.filter(pk=cluster.pk).update(prerequisites=items, prerequisites_checked_at=now)
    cluster.prerequisites, cluster.prerequisites_checked_at = items, now


def ensure_prerequisites(
    gateway: KubeGateway, cluster: Cluster, now: datetime, *, force: bool = False
) -> None:
    """Raise ``PrerequisiteMissing`` naming what the cluster lacks; a fresh check without absences is reused
    unless ``force`` (a kind the API server just said it does not serve)."""
    if not force and _fresh(cluster, now):
        return
    report = cluster_prerequisites(gateway, cluster)
    record_prerequisites(cluster, report.items, now)
    missing = absent(report.items)
    if missing:
        raise PrerequisiteMissing(missing)
