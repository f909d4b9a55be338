"""Tenants: list, read, create, change; deleting is refused until every registry of the tenant is purged."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema

from provisioning.api.serializers.tenants import TenantSerializer
from provisioning.api.views.base import AuditedCrudViewSet
from provisioning.choices import Phase
from provisioning.filtersets import TenantFilterSet
from provisioning.models import Tenant
from provisioning.services.errors import ActionRefused


@extend_schema(tags=["tenants"])
class TenantViewSet(AuditedCrudViewSet):
    serializer_class = TenantSerializer
    filterset_class = TenantFilterSet
    ordering_fields = ["slug", "name", "created_at", "registry_count"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "create",
        "update": "change",
        "partial_update": "change",
        "destroy": "delete",
    }

    def get_queryset(self) -> QuerySet[Tenant]:
        return Tenant.objects.annotate(
            registry_count=Count("registries", filter=~Q(registries__phase=Phase.PURGED))
        ).order_by("slug")

    def delete_object(self, instance: Any) -> None:
        tenant: Tenant = instance
        refusal = tenant.deletion_refusal()
        if refusal:
            raise ActionRefused(refusal, code="tenant_has_registries")
        self.audit("delete", tenant, changes={"slug": tenant.slug, "name": tenant.name})
        tenant.registries.all().delete()  # purged ones only: their rows are history, their data is gone
        tenant.delete()
