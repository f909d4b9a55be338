"""Clusters: everyone reads them (credentials never shown); only admins create, change or delete one.

Saving goes through :func:`provisioning.services.clusters.save_cluster`, which validates the Kubernetes access and
the connection settings (e.g. the PostgreSQL admin URL) and records the audit event; what it warns about (a queue
without a worker) is in the answer's ``warnings``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Model, Q, QuerySet
from drf_spectacular.utils import extend_schema

from provisioning.api.serializers.clusters import SECRET_FIELDS, ClusterSerializer, credential_flags
from provisioning.api.views.base import AuditedCrudViewSet
from provisioning.choices import Phase, Via
from provisioning.filtersets import ClusterFilterSet
from provisioning.models import Cluster
from provisioning.services.clusters import save_cluster


@extend_schema(tags=["clusters"])
class ClusterViewSet(AuditedCrudViewSet):
    serializer_class = ClusterSerializer
    filterset_class = ClusterFilterSet
    ordering_fields = ["name", "region", "capacity", "created_at", "registry_count"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "manage_clusters",
        "update": "manage_clusters",
        "partial_update": "manage_clusters",
        "destroy": "manage_clusters",
    }

    def get_queryset(self) -> QuerySet[Cluster]:
        queryset = Cluster.objects.annotate(
            registry_count=Count("registries", filter=~Q(registries__phase=Phase.PURGED)),
            **credential_flags(),
        ).order_by("name")
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            queryset = queryset.defer(*SECRET_FIELDS)
        return queryset

    def save_new(self, serializer: Any) -> Model:
        return self._save(Cluster(), serializer.validated_data)

    def save_changes(self, serializer: Any) -> Model:
        return self._save(serializer.instance, serializer.validated_data)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "save_warnings": getattr(self, "save_warnings", [])}

    def _save(self, cluster: Cluster, values: dict[str, Any]) -> Cluster:
        for name, value in values.items():
            setattr(cluster, name, value)
        saved = save_cluster(cluster, actor=self.request.user, via=Via.API)
        self.save_warnings = saved.warnings
        return saved.cluster
