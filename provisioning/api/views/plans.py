"""Plans: everyone reads them; only admins create, change or delete one (deleting one in use is refused).

A change goes through ``update_plan``, which audits it and requeues every live registry on the plan.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from drf_spectacular.utils import extend_schema

from provisioning.api.serializers.plans import PlanSerializer
from provisioning.api.views.base import AuditedCrudViewSet
from provisioning.choices import Phase, Via
from provisioning.filtersets import PlanFilterSet
from provisioning.models import Plan
from provisioning.services.plans import update_plan


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

    def save_changes(self, serializer: Any) -> Plan:
        return update_plan(
            serializer.instance, dict(serializer.validated_data), actor=self.request.user, via=Via.API
        )
