"""Clusters: Kubernetes targets. Credentials are write-only: the API says whether each is set, never its value."""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Case, Value, When
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning.api.serializers.base import CleanedModelSerializer, StrictFieldsMixin
from provisioning.choices import ClusterHealth
from provisioning.models import Cluster
from provisioning.services.placement import reserved_by_cluster, use_of
from provisioning.validators import MAX_CIDRS, MAX_TOLERATIONS, validate_cidr, validate_label_keys

SECRET_FIELDS = ("token", "kubeconfig", "database_admin_url", "s3_access_key", "s3_secret_key")
SECRET_HELP = (
    "Write-only: stored encrypted and never returned. Omit it to keep the stored value; '' clears it."
)
USE_SCHEMA = {
    "type": "object",
    "properties": {
        "registries": {"type": "integer"},
        "capacity": {"type": "integer"},
        "cpu_reserved_millicores": {"type": "integer"},
        "cpu_allocatable_millicores": {"type": "integer", "nullable": True},
        "memory_reserved_bytes": {"type": "integer"},
        "memory_allocatable_bytes": {"type": "integer", "nullable": True},
        "placement": {
            "type": "string",
            "enum": ["usable", "unknown", "unusable"],
            "description": "Whether automatic placement may choose the cluster now: usable (reached recently, "
            "prerequisites present), unknown or unusable.",
        },
        "placement_reason": {
            "type": "string",
            "description": "Why it is excluded from placement ('' if usable).",
        },
    },
}
LABEL_KEY_MAX = 317  # an optional 253-character prefix, '/', and a 63-character name


def secret_kwargs(max_length: int) -> dict[str, Any]:
    return {
        "write_only": True,
        "required": False,
        "allow_blank": True,
        "max_length": max_length,
        "help_text": SECRET_HELP,
    }


class TolerationSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    """A Kubernetes toleration, checked field by field so that a bad one fails here rather than at apply time."""

    key = serializers.CharField(max_length=LABEL_KEY_MAX, required=False, allow_blank=True)
    operator = serializers.ChoiceField(choices=["Exists", "Equal"], required=False)
    value = serializers.CharField(max_length=63, required=False, allow_blank=True)
    effect = serializers.ChoiceField(
        choices=["", "NoSchedule", "PreferNoSchedule", "NoExecute"], required=False, allow_blank=True
    )
    tolerationSeconds = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)


class ClusterHealthSerializer(serializers.Serializer[Any]):
    state = serializers.ChoiceField(choices=ClusterHealth.choices)
    reasons = serializers.ListField(child=serializers.CharField())
    since = serializers.DateTimeField(allow_null=True)


OBSERVED_FIELDS = [
    "api_reachable",
    "api_version",
    "api_latency_ms",
    "last_contact_at",
    "last_list_at",
    "last_watch_at",
    "last_error",
    "last_error_at",
    "prerequisites",
    "prerequisites_checked_at",
]
"""What the console last observed of the cluster's API server (written by reconciliation, never by a client)."""


class ClusterSerializer(CleanedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:cluster-detail")
    credentials = serializers.SerializerMethodField(
        help_text="Which write-only credentials are set (true) or empty (false)."
    )
    warnings = serializers.SerializerMethodField(
        help_text="What this save found that did not stop it, e.g. no worker on the cluster's queue. Empty when "
        "the cluster is read."
    )
    registry_count = serializers.IntegerField(
        read_only=True, default=0, help_text="Registries not yet purged."
    )
    health = serializers.SerializerMethodField(
        help_text="Healthy, Degraded (a prerequisite missing), Unreachable, or Unknown without recent evidence; "
        "its registries are Unknown while it is Unknown or Unreachable."
    )
    node_selector = serializers.DictField(
        child=serializers.CharField(max_length=63, allow_blank=True),
        validators=[validate_label_keys],
        required=False,
    )
    tolerations = serializers.ListField(
        child=TolerationSerializer(), max_length=MAX_TOLERATIONS, required=False
    )
    egress_cidrs = serializers.ListField(
        child=serializers.CharField(max_length=43, validators=[validate_cidr]),
        max_length=MAX_CIDRS,
        required=False,
    )
    upstream_egress_cidrs = serializers.ListField(
        child=serializers.CharField(max_length=43, validators=[validate_cidr]), max_length=100, required=False
    )
    upstream_egress_ports = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=65535),
        min_length=1,
        max_length=20,
        required=False,
    )
    labels = serializers.DictField(
        child=serializers.CharField(max_length=63, allow_blank=True),
        validators=[validate_label_keys],
        required=False,
        help_text="Labels for choosing clusters (key: value).",
    )
    use = serializers.SerializerMethodField(
        help_text="Registries placed (not purged) against capacity, and the CPU (millicores) and memory (bytes) "
        "their plans' namespace ceilings reserve against what the cluster offers (null: not recorded), and "
        "whether automatic placement may choose it now (placement, placement_reason)."
    )
    dns_pod_labels = serializers.DictField(
        child=serializers.CharField(max_length=63, allow_blank=True),
        validators=[validate_label_keys],
        required=False,
    )

    class Meta:
        model = Cluster
        fields = [
            "id",
            "url",
            "name",
            "display_name",
            "region",
            "in_cluster",
            "api_url",
            "ca_certificate",
            "simulated",
            "ingress_class",
            "ingress_namespace",
            "monitoring_namespace",
            "storage_class",
            "cert_issuer",
            "node_selector",
            "tolerations",
            "capacity",
            "allocatable_cpu",
            "allocatable_memory",
            "labels",
            "use",
            "queue",
            "egress_cidrs",
            "dns_namespace",
            "dns_pod_labels",
            "upstream_egress_cidrs",
            "upstream_egress_ports",
            "acme_http01",
            "s3_endpoint",
            "s3_region",
            "s3_iam",
            "backup_marker",
            *SECRET_FIELDS,
            "credentials",
            "warnings",
            "registry_count",
            "health",
            *OBSERVED_FIELDS,
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            **{name: secret_kwargs(max_length=10_000) for name in SECRET_FIELDS},
            "kubeconfig": secret_kwargs(max_length=100_000),
            "ca_certificate": {"max_length": 100_000},
            "capacity": {"max_value": 1_000_000},
            **{name: {"read_only": True} for name in OBSERVED_FIELDS},
        }

    @extend_schema_field(USE_SCHEMA)
    def get_use(self, cluster: Cluster) -> dict[str, Any]:
        """Every cluster's reservations are read once per response (one query), kept in the context."""
        if "reserved_by_cluster" not in self.context:
            self.context["reserved_by_cluster"] = reserved_by_cluster()
        totals = self.context["reserved_by_cluster"]
        return use_of(cluster, totals).as_dict()

    def get_warnings(self, cluster: Cluster) -> list[str]:
        return list(self.context.get("save_warnings", []))

    @extend_schema_field(ClusterHealthSerializer)
    def get_health(self, cluster: Cluster) -> dict[str, Any]:
        return dict(ClusterHealthSerializer(cluster.health()).data)

    def get_credentials(self, cluster: Cluster) -> dict[str, bool]:
        """Read from the ``has_<name>`` annotations of :func:`credential_flags`: no secret is decrypted."""
        return {name: bool(getattr(cluster, f"has_{name}", False)) for name in SECRET_FIELDS}


def credential_flags() -> dict[str, Case]:
    """Annotations saying whether each credential is set, computed by the database."""
    return {
        f"has_{name}": Case(
            When(**{name: ""}, then=Value(False)), default=Value(True), output_field=BooleanField()
        )
        for name in SECRET_FIELDS
    }
