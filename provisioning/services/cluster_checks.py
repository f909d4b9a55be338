"""What saving a cluster checks on the cluster itself, for the web form and the API alike (through ``save_cluster``).

* The access settings: a kubeconfig with inline credentials only (:mod:`provisioning.kube.kubeconfig`), a CA that is
  a parseable PEM bundle.
* The API server, asked once for ``/version`` and once for an authenticated read, through the one gateway with a
  short timeout and no retries, so a save never hangs; a TLS failure (e.g. the CA does not match) is reported as
  such, on the CA field. What was observed is returned for the cluster's observation fields.
* The prerequisites a stack needs (``provisioning.reconcile.prerequisite_step``): cert-manager's CRDs, the
  ClusterIssuer, IngressClass and StorageClass it names. An absent one refuses the save on its field; one that
  could not be checked is a warning; what was found is returned for ``Cluster.prerequisites``.
* The Celery queue named by the cluster: a queue with no live worker is a *warning* (the worker may start later),
  never a refusal.

Every problem is a sentence on the field it concerns, saying what is wrong and what to do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from celery import current_app
from cryptography import x509
from django.conf import settings
from django.utils import timezone

from provisioning.kube import KubeGateway
from provisioning.kube.errors import KubeApiError, KubeConfigError, KubeError, KubeUnreachable
from provisioning.kube.kubeconfig import check_kubeconfig
from provisioning.models import Cluster
from provisioning.reconcile.engine import cluster_access
from provisioning.reconcile.prerequisite_step import absent, cluster_prerequisites

ACCESS_FIELDS = ("in_cluster", "api_url", "token", "ca_certificate", "kubeconfig")
PREREQUISITE_FIELDS = ("ingress_class", "storage_class", "cert_issuer", "dns_namespace")
"""Settings naming something the cluster must have: a change is checked on the cluster."""
PREREQUISITE_FIELD = {
    "CustomResourceDefinition": "cert_issuer",
    "ClusterIssuer": "cert_issuer",
    "IngressClass": "ingress_class",
    "StorageClass": "storage_class",
}


@dataclass(frozen=True)
class ApiObservation:
    """What one contact with the API server showed."""

    version: str
    latency_ms: float
    at: datetime
    prerequisites: list[dict[str, Any]] = field(default_factory=list)
    """What the prerequisite check found, as ``Cluster.prerequisites`` stores it."""


@dataclass
class ClusterCheck:
    """Problems by field (the save is refused), warnings (shown, the save goes on) and what was observed."""

    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    observation: ApiObservation | None = None


def check_access(cluster: Cluster, timeout: float) -> ClusterCheck:
    """Check the access settings, then ask the API server; nothing is asked when the settings are unusable."""
    problems = access_problems(cluster)
    if problems:
        return ClusterCheck(problems=problems)
    return probe_api(cluster, timeout)


def access_problems(cluster: Cluster) -> dict[str, str]:
    problems: dict[str, str] = {}
    if cluster.kubeconfig and not cluster.in_cluster:
        try:
            check_kubeconfig(cluster.kubeconfig)
        except KubeConfigError as error:
            problems["kubeconfig"] = str(error)
    if cluster.ca_certificate:
        problem = ca_problem(cluster.ca_certificate)
        if problem:
            problems["ca_certificate"] = problem
    return problems


def ca_problem(pem: str) -> str | None:
    """What is wrong with a CA bundle, or None when it holds at least one certificate in PEM."""
    try:
        x509.load_pem_x509_certificates(pem.strip().encode())
    except ValueError as error:
        return (
            f"This is not a PEM certificate bundle ({error}): paste the API server's CA, from "
            "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
        )
    return None


def access_field(cluster: Cluster) -> str:
    """The field a problem reaching the API server belongs to: the setting that says how it is reached."""
    if cluster.in_cluster:
        return "in_cluster"
    return "kubeconfig" if cluster.kubeconfig else "api_url"


def probe_api(cluster: Cluster, timeout: float) -> ClusterCheck:
    """Ask the API server its version, then read one object to prove the credentials are accepted.

    Then the cluster's prerequisites, with the same gateway: an absent one is a problem on its field.
    """
    where = access_field(cluster)
    try:
        gateway = KubeGateway(
            cluster_access(cluster), field_manager=settings.KUBE_FIELD_MANAGER, timeout=timeout, retries=0
        )
    except KubeConfigError as error:
        return ClusterCheck(problems={where: str(error)})
    try:
        started = time.monotonic()
        version = gateway.server_version()
        latency_ms = (time.monotonic() - started) * 1000
        gateway.get("v1", "Namespace", "default")
        items = cluster_prerequisites(gateway, cluster).items
    except KubeUnreachable as error:
        if error.tls:
            target = "ca_certificate" if where == "api_url" else where
            return ClusterCheck(
                problems={target: f"{error} Give the CA that signed the API server's certificate."}
            )
        return ClusterCheck(
            problems={
                where: f"{error} Check the address and that the console can reach it (waited {timeout:g} s)."
            }
        )
    except KubeApiError as error:
        if error.status in (401, 403):
            credential = "token" if where == "api_url" else where
            return ClusterCheck(
                problems={
                    credential: f"The API server refused the credentials ({error.status} {error.reason}): give "
                    "a token or certificate of a service account the console may use."
                }
            )
        return ClusterCheck(problems={where: f"The API server answered with an error: {error}"})
    except KubeError as error:
        return ClusterCheck(problems={where: str(error)})
    finally:
        gateway.close()
    problems, warnings = prerequisite_problems(items)
    observation = ApiObservation(version, round(latency_ms, 1), timezone.now(), items)
    return ClusterCheck(problems=problems, warnings=warnings, observation=observation)


def prerequisite_problems(items: list[dict[str, Any]]) -> tuple[dict[str, str], list[str]]:
    """Absent prerequisites by field (sentences joined), and those that could not be checked as warnings."""
    problems: dict[str, str] = {}
    for item in absent(items):
        where = PREREQUISITE_FIELD[item["kind"]]
        problems[where] = " ".join(part for part in (problems.get(where), item["message"]) if part)
    blocking = absent(items)
    warnings = [item["message"] for item in items if item.get("present") is not True and item not in blocking]
    return problems, warnings


def _sentence(error: KubeUnreachable) -> str:
    """The gateway's message without its ``verb what:`` prefix, as a sentence."""
    text = str(error).removeprefix(f"{error.verb} {error.what}: ")
    return text[:1].upper() + text[1:]


def queue_warning(queue: str, timeout: float) -> str | None:
    """A sentence when no live worker consumes ``queue`` (or the workers cannot be asked), else None."""
    try:
        replies = current_app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception as error:  # noqa: BLE001 - a broker that is down or cannot broadcast: say so, do not refuse
        return (
            f"Could not ask the Celery workers whether one consumes the queue {queue!r} ({type(error).__name__}: "
            f"{error}); reconciliations of this cluster wait until a worker does."
        )
    for queues in replies.values():
        if any(entry.get("name") == queue for entry in queues or []):
            return None
    return (
        f"No running Celery worker consumes the queue {queue!r}: this cluster's reconciliations wait until one "
        f"does (start one with: celery -A harborconsole worker -Q {queue})."
    )
