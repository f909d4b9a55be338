"""A cheap periodic probe of the clusters no reconciliation contacted lately, so placement keeps knowing them.

Contact is recorded by runs (:mod:`provisioning.reconcile.contact`), the watcher and cluster saves; a cluster with no
registries gets none of those, and :mod:`provisioning.services.cluster_usability` would call it Unknown three sweep
intervals after it was saved, so adding an empty cluster to grow capacity would silently stop working. The probe asks
each *quiet* cluster (no contact and no error recorded within ``probe_after()``, half the staleness limit) what a
cluster save asks: ``GET /version``, and the prerequisites check, which is reused from the row while younger than
``PREREQUISITES_TTL`` (so a probe is usually one request). What it learned is recorded as runs record it: reachable
with its latency, or unreachable with the error. A cluster whose registries are reconciled is not quiet and costs
nothing. One request waits at most ``CLUSTER_CHECK_TIMEOUT_SECONDS``, without retries; a cluster that fails is
recorded and the next one is probed.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from provisioning.kube import KubeGateway
from provisioning.kube.errors import KubeConfigError
from provisioning.models import Cluster
from provisioning.reconcile.contact import Contact, contact_of, record_contact
from provisioning.reconcile.engine import cluster_access
from provisioning.reconcile.errors import PrerequisiteMissing, classify
from provisioning.reconcile.prerequisite_step import ensure_prerequisites
from provisioning.services.cluster_usability import stale_after

logger = logging.getLogger("provisioning.probe")


def probe_after() -> timedelta:
    """How old a cluster's last contact (or error) gets before it is probed: half of what placement still trusts,
    so a cluster probed every other sweep stays current."""
    return stale_after() / 2


def quiet_clusters(now: datetime | None = None) -> QuerySet[Cluster]:
    """The clusters nothing contacted within ``probe_after()`` (one query when evaluated)."""
    cutoff = (now or timezone.now()) - probe_after()
    return Cluster.objects.filter(~Q(last_contact_at__gt=cutoff), ~Q(last_error_at__gt=cutoff)).order_by("pk")


def probe_cluster(cluster: Cluster, timeout: float | None = None) -> Contact | None:
    """Ask ``cluster``'s API server its version (and its prerequisites when their check is stale), record the
    contact on its row; the contact, or None when the probe learned nothing of the API server."""
    timeout = settings.CLUSTER_CHECK_TIMEOUT_SECONDS if timeout is None else timeout
    try:
        gateway = KubeGateway(
            cluster_access(cluster), field_manager=settings.KUBE_FIELD_MANAGER, timeout=timeout, retries=0
        )
    except KubeConfigError as error:
        contact: Contact | None = Contact(False, error=f"The cluster's access settings are unusable: {error}")
        record_contact(cluster, contact, timezone.now())
        return contact
    latency_ms: float | None = None
    version = ""
    try:
        started = time.monotonic()
        version = gateway.server_version()
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        ensure_prerequisites(gateway, cluster, timezone.now())
    except PrerequisiteMissing:  # recorded on the row: placement calls the cluster unusable
        contact = contact_of(None, latency_ms, listed=False)
    except Exception as error:  # noqa: BLE001 - classified: what says the API server cannot be used is recorded
        failure = classify(error)
        contact = contact_of(failure, latency_ms, listed=False)
        if contact is None or contact.reachable:
            logger.warning("probe of cluster %s: %s", cluster.name, failure.message)
    else:
        contact = contact_of(None, latency_ms, listed=False)
    finally:
        gateway.close()
    record_contact(cluster, contact, timezone.now())
    if version and version[:32] != cluster.api_version:
        Cluster.objects.filter(pk=cluster.pk).update(api_version=version[:32])
        cluster.api_version = version[:32]
    return contact


def probe_quiet_clusters(now: datetime | None = None) -> dict[str, int]:
    """Probe every quiet cluster in turn, here; one that breaks does not stop the others. Counts by outcome."""
    counts = {"probed": 0, "reachable": 0, "unreachable": 0}
    for cluster in quiet_clusters(now):
        counts["probed"] += 1
        try:
            contact = probe_cluster(cluster)
        except Exception:
            logger.exception("probe of cluster %s failed", cluster.name)
            continue
        if contact is not None:
            counts["reachable" if contact.reachable else "unreachable"] += 1
    return counts
