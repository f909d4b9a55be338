"""Plans: everyone reads them; only admins create, change or delete one (deleting one in use is refused)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema

from provisioning.api.serializers.plans import PlanSerializer
from provisioning.api.views.base import AuditedCrudViewSet
from provisioning.choices import Phase
from provisioning.filtersets import PlanFilterSet
from provisioning.models import Plan


@extend_schema(tags=["plans"])
class PlanViewSet(AuditedCrudViewSet):
    serializer_class = PlanSerializer
    filterset_class = PlanFilterSet
    ordering_fields = ["name", "storage_quota_gib", "replicas", "created_at", "registry_count"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "manage_plans",
        "update": "manage_plans",
        "partial_update": "manage_plans",
        "destroy": "manage_plans",
    }

    def get_queryset(self) -> QuerySet[Plan]:
        return Plan.objects.annotate(
            registry_count=Count("registries", filter=~Q(registries__phase=Phase.PURGED))
        ).order_by("storage_quota_gib", "name")
