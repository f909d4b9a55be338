"""Clusters: the Kubernetes targets registries run on, and the shared services of their region."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from provisioning.choices import ClusterHealth
from provisioning.fields import EncryptedTextField
from provisioning.validators import (
    validate_cidrs,
    validate_dns_label,
    validate_node_selector,
    validate_object_name,
    validate_ports,
    validate_quantity,
    validate_queue_name,
    validate_tolerations,
)

DEFAULT_DNS_POD_LABELS = {"k8s-app": "kube-dns"}
DEFAULT_UPSTREAM_EGRESS_CIDRS = ["0.0.0.0/0", "::/0"]


def default_dns_pod_labels() -> dict[str, str]:
    return dict(DEFAULT_DNS_POD_LABELS)


def default_upstream_egress_cidrs() -> list[str]:
    return list(DEFAULT_UPSTREAM_EGRESS_CIDRS)


def default_upstream_egress_ports() -> list[int]:
    return [443]


class Cluster(models.Model):
    name = models.CharField(max_length=63, unique=True, validators=[validate_dns_label])
    display_name = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=63, blank=True)
    in_cluster = models.BooleanField(
        default=False, help_text="Use the service account of the pod the console runs in."
    )
    api_url = models.URLField(blank=True, help_text="Kubernetes API URL, e.g. https://10.0.0.1:6443.")
    token = EncryptedTextField(blank=True, help_text="Bearer token of the console's service account.")
    ca_certificate = models.TextField(blank=True, help_text="PEM CA bundle of the API server.")
    kubeconfig = EncryptedTextField(
        blank=True, help_text="A kubeconfig; used instead of URL and token when set."
    )
    simulated = models.BooleanField(
        default=False, help_text="This cluster is the Kubernetes API emulator, not a real cluster."
    )
    ingress_class = models.CharField(max_length=63, default="nginx")
    ingress_namespace = models.CharField(max_length=63, default="ingress-nginx")
    monitoring_namespace = models.CharField(max_length=63, default="monitoring")
    storage_class = models.CharField(max_length=63, blank=True)
    cert_issuer = models.CharField(
        max_length=63, default="letsencrypt", help_text="cert-manager ClusterIssuer."
    )
    node_selector = models.JSONField(default=dict, blank=True)
    tolerations = models.JSONField(default=list, blank=True)
    capacity = models.PositiveIntegerField(default=500, help_text="How many registries the cluster may host.")
    allocatable_cpu = models.CharField(
        max_length=16,
        blank=True,
        help_text="CPU the cluster's registry nodes offer (e.g. 64): the plans' namespace CPU limits of the "
        "registries placed on it must fit under it. Empty: CPU is not a placement limit.",
    )
    allocatable_memory = models.CharField(
        max_length=16,
        blank=True,
        help_text="Memory the cluster's registry nodes offer (e.g. 256Gi): the plans' namespace memory limits of "
        "the registries placed on it must fit under it. Empty: memory is not a placement limit.",
    )
    labels = models.JSONField(
        default=dict,
        blank=True,
        help_text='Labels for choosing clusters, e.g. {"tier": "gold", "zone": "a"}.',
    )
    queue = models.CharField(
        max_length=63, default="default", help_text="Celery queue for this cluster's reconciliations."
    )
    database_admin_url = EncryptedTextField(
        blank=True,
        help_text="postgres://admin:password@host:5432/postgres of the region's PostgreSQL service.",
    )
    egress_cidrs = models.JSONField(
        default=list,
        blank=True,
        help_text="CIDRs of the shared services (database, Redis, object storage). A service host that does not "
        "resolve from the console, or resolves inside one of these, is reached through them; a Redis Sentinel's "
        "master always is.",
    )
    dns_namespace = models.CharField(
        max_length=63,
        default="kube-system",
        blank=True,
        validators=[validate_dns_label],
        help_text="Namespace of the cluster DNS pods (kube-system when empty).",
    )
    dns_pod_labels = models.JSONField(
        default=default_dns_pod_labels,
        blank=True,
        help_text='Labels of the cluster DNS pods, e.g. {"k8s-app": "kube-dns"}; {} for every pod of the namespace.',
    )
    upstream_egress_cidrs = models.JSONField(
        default=default_upstream_egress_cidrs,
        blank=True,
        help_text="Where core, job service and Trivy may reach upstream registries and the vulnerability "
        "databases; private ranges inside a CIDR are excepted. [] turns upstream access off.",
    )
    upstream_egress_ports = models.JSONField(
        default=default_upstream_egress_ports, blank=True, help_text="Ports of upstream access, e.g. [443]."
    )
    acme_http01 = models.BooleanField(
        default=True,
        verbose_name="Issuer solves HTTP-01",
        help_text="The ClusterIssuer solves ACME HTTP-01 challenges: its solver pod runs in each registry's "
        "namespace and the ingress controller must reach it.",
    )
    s3_endpoint = models.URLField(blank=True)
    s3_region = models.CharField(max_length=63, blank=True)
    s3_access_key = EncryptedTextField(blank=True)
    s3_secret_key = EncryptedTextField(blank=True)
    s3_iam = models.BooleanField(
        default=False,
        help_text="The S3 provider serves the IAM API on the same endpoint: give each tenant its own user, "
        "access key and bucket policy instead of the shared keys.",
    )
    backup_marker = models.CharField(
        max_length=300,
        blank=True,
        help_text="How the region's PostgreSQL is backed up before an upgrade migrates a schema (e.g. the "
        "provider's point-in-time recovery and its retention). Upgrades on this cluster are refused while empty.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # What the console last observed of the API server: written by reconciliation and the watcher, never by forms.
    api_reachable = models.BooleanField(null=True, editable=False, help_text="None until first contacted.")
    api_version = models.CharField(max_length=32, blank=True, editable=False)
    api_latency_ms = models.FloatField(null=True, blank=True, editable=False)
    last_contact_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_list_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_watch_at = models.DateTimeField(null=True, blank=True, editable=False)
    prerequisites = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text='[{"kind", "name", "present": true|false|null, "message"}] as last checked.',
    )
    prerequisites_checked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name

    def health(self, now: datetime | None = None) -> ClusterHealthView:
        """The cluster's state from what was observed, Unknown without recent evidence."""
        now = now or timezone.now()
        stale_after = timedelta(seconds=3 * settings.SWEEP_INTERVAL_SECONDS)
        if self.api_reachable is None or (self.last_contact_at is None and self.last_error_at is None):
            return ClusterHealthView(
                ClusterHealth.UNKNOWN, ["The console has not contacted this cluster yet."]
            )
        if self.api_reachable is False:
            since = self.last_error_at or now
            return ClusterHealthView(
                ClusterHealth.UNREACHABLE, [self.last_error or "The API server did not answer."], since
            )
        assert self.last_contact_at is not None
        if now - self.last_contact_at > stale_after:
            return ClusterHealthView(
                ClusterHealth.UNKNOWN,
                [f"No contact since {self.last_contact_at:%Y-%m-%d %H:%M} UTC: the state is not current."],
                self.last_contact_at,
            )
        missing = [item for item in self.prerequisites or [] if item.get("present") is not True]
        if missing:
            reasons = [
                item.get("message") or f"{item.get('kind')} {item.get('name')} is not present."
                for item in missing
            ]
            return ClusterHealthView(ClusterHealth.DEGRADED, reasons, self.prerequisites_checked_at)
        return ClusterHealthView(ClusterHealth.HEALTHY, [], self.last_contact_at)

    def clean(self) -> None:
        """The settings' own rules, the same for the form, the API and Django admin (reachability is checked by
        :func:`provisioning.services.clusters.save_cluster`)."""
        errors: dict[str, list[str]] = {}
        if not self.in_cluster and not self.kubeconfig and not self.api_url:
            errors["api_url"] = [
                "Give the API URL (with a token), a kubeconfig, or choose in-cluster access."
            ]
        for name, check in CLUSTER_FIELD_CHECKS.items():
            value = getattr(self, name)
            if not value and name in OPTIONAL_NAMES:
                continue
            try:
                check(value)
            except ValidationError as error:
                errors.setdefault(name, []).extend(error.messages)
        if errors:
            raise ValidationError(errors)


OPTIONAL_NAMES = {"storage_class", "allocatable_cpu", "allocatable_memory"}  # empty: no value, by default
CLUSTER_FIELD_CHECKS: dict[str, Callable[[Any], None]] = {
    "ingress_class": validate_object_name,
    "storage_class": validate_object_name,
    "cert_issuer": validate_object_name,
    "ingress_namespace": validate_dns_label,
    "monitoring_namespace": validate_dns_label,
    "queue": validate_queue_name,
    "node_selector": validate_node_selector,
    "tolerations": validate_tolerations,
    "egress_cidrs": validate_cidrs,
    "upstream_egress_cidrs": validate_cidrs,
    "upstream_egress_ports": validate_ports,
    "dns_namespace": validate_dns_label,
    "dns_pod_labels": validate_node_selector,
    "labels": validate_node_selector,
    "allocatable_cpu": validate_quantity,
    "allocatable_memory": validate_quantity,
}


@dataclass(frozen=True)
class ClusterHealthView:
    """A cluster's health with every reason, and since when it is known."""

    state: str
    reasons: list[str]
    since: datetime | None = None
