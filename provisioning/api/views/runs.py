"""Reconcile runs: read-only, filtered by registry, tenant, status, error class, trigger and date."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.serializers import BaseSerializer

from provisioning.api.serializers.runs import ReconcileRunDetailSerializer, ReconcileRunSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.filtersets import ReconcileRunFilterSet
from provisioning.models import ReconcileRun


@extend_schema(tags=["runs"])
class ReconcileRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    filterset_class = ReconcileRunFilterSet
    ordering_fields = ["requested_at", "started_at", "finished_at", "duration_ms", "status", "error_class"]
    action_permissions = {"list": "view", "retrieve": "view"}

    def get_queryset(self) -> QuerySet[ReconcileRun]:
        queryset = ReconcileRun.objects.select_related("registry__tenant", "requested_by").order_by(
            "-requested_at", "-id"
        )
        if self.action == "list":
            queryset = queryset.defer("actions")
        return queryset

    def get_serializer_class(self) -> type[BaseSerializer[ReconcileRun]]:
        return ReconcileRunDetailSerializer if self.action == "retrieve" else ReconcileRunSerializer
