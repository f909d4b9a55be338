"""Bulk operations: ``POST /api/v1/registries/bulk/`` acts on a selection (ids or list filters) and answers 202
with the summary resource ``/api/v1/bulk-operations/<id>/`` (runs per registry with their status, refusals)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning.api.idempotency import idempotent
from provisioning.api.serializers.bulk import BulkOperationSerializer, BulkRequestSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.choices import Via
from provisioning.filtersets import RegistryFilterSet
from provisioning.models import BulkOperation, ReconcileRun, Registry, Upgrade
from provisioning.services.bulk import run_bulk


def selected(data: dict[str, Any], request: Request) -> QuerySet[Registry]:
    """The registries the request names: its ids, or what the list's filters select."""
    if "ids" in data:
        return Registry.objects.filter(pk__in=data["ids"])
    query = QueryDict(mutable=True)
    for name, value in data["filters"].items():
        values = value if isinstance(value, list) else [value]
        query.setlist(name, [str(v).lower() if isinstance(v, bool) else str(v) for v in values])
    filterset = RegistryFilterSet(data=query, queryset=Registry.objects.all(), request=request)
    if not filterset.is_valid():
        raise exceptions.ValidationError({"filters": filterset.errors})
    return filterset.qs


@extend_schema(tags=["bulk operations"])
class BulkOperationViewSet(mixins.ListModelMixin, ApiViewSet):
    serializer_class = BulkOperationSerializer
    filter_backends: list[type] = []
    action_permissions = {"list": "view", "retrieve": "view"}

    def get_queryset(self) -> QuerySet[BulkOperation]:
        return BulkOperation.objects.select_related("requested_by").order_by("-requested_at", "-id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        context["run_statuses"] = getattr(self, "_run_statuses", {})
        context["upgrade_statuses"] = getattr(self, "_upgrade_statuses", {})
        return context

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        self._load_statuses(page or [])
        return page

    def _load_statuses(self, operations: list[BulkOperation]) -> None:
        """Every run's status for these operations, in one query; every upgrade's in one more."""
        ids = [item["run"] for operation in operations for item in operation.runs]
        self._run_statuses = dict(ReconcileRun.objects.filter(pk__in=ids).values_list("id", "status"))
        upgrade_ids = [
            item["upgrade"] for operation in operations for item in operation.upgrades if item.get("upgrade")
        ]
        self._upgrade_statuses = (
            dict(Upgrade.objects.filter(pk__in=upgrade_ids).values_list("id", "status"))
            if upgrade_ids
            else {}
        )

    def summary(self, operation: BulkOperation, status: int = 200) -> Response:
        self._load_statuses([operation])
        data = BulkOperationSerializer(operation, context=self.get_serializer_context()).data
        headers = {"Location": str(data["url"])} if status == 202 else {}
        return Response(data, status=status, headers=headers)

    @extend_schema(responses={200: BulkOperationSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A bulk operation: per-registry runs with their current status, counts per status, refusals."""
        return self.summary(self.get_object())


@extend_schema(tags=["bulk operations"])
class RegistryBulkViewSet(BulkOperationViewSet):
    """Only ``create``: mounted at ``registries/bulk/``."""

    action_permissions = {"create": "bulk_operate"}
    idempotent_actions = ("create",)
    location_actions = ("create",)

    @extend_schema(
        request=BulkRequestSerializer,
        responses={
            202: OpenApiResponse(BulkOperationSerializer, description="Accepted: poll it at Location.")
        },
    )
    def create(self, request: Request) -> Response:
        """Reconcile, suspend, resume or upgrade the registries selected by ids or list filters: one run per
        registry accepted; each registry that may not take the action is listed with the reason. An upgrade lists
        each deployed registry accepted in upgrades, pending: a worker starts each one's step-by-step upgrade and
        records it there as it comes (a failed pre-flight becomes a refusal naming the halted upgrade); a registry
        never deployed changes version in place (a run). The answer costs the same whatever the selection."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        serializer = BulkRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        selection = selected(data, request)
        described = {"ids": data["ids"]} if "ids" in data else {"filters": data["filters"]}
        operation = run_bulk(
            selection,
            data["action"],
            actor=request.user,
            via=Via.API,
            target_version=data.get("target_version", ""),
            described=described,
        )
        return self.summary(operation, status=202)
