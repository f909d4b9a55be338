"""Audit events: read-only, filtered by actor, action, target, registry, tenant, door and date."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from provisioning.api.serializers.audit import AuditEventSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.filtersets import AuditEventFilterSet
from provisioning.models import AuditEvent


@extend_schema(tags=["audit"])
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    ordering_fields = ["at", "actor_name", "action", "target_type"]
    action_permissions = {"list": "view", "retrieve": "view"}

    def get_queryset(self) -> QuerySet[AuditEvent]:
        return AuditEvent.objects.order_by("-at", "-id")
