"""Registries: list, read (with ETag), create (with Idempotency-Key), change, and the operations on one.

Every write locks the registry row, checks ``If-Match`` against its current ETag, then calls the service function
the web console calls too; the service changes the database, audits and enqueues the reconciliation after commit.
Operations answer 202 with the reconcile run to poll and its URL in ``Location``; the upgrade answers with the
step-by-step upgrade to follow (``/api/v1/upgrades/<id>/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from django.db import transaction
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from provisioning.api.etag import check_if_match, not_modified, registry_etag
from provisioning.api.idempotency import idempotent
from provisioning.api.serializers.registries import (
    ManagedResourceSerializer,
    PurgeSerializer,
    RegistryCreateSerializer,
    RegistryDetailSerializer,
    RegistrySerializer,
    RegistryUpdateSerializer,
    UpgradeSerializer,
)
from provisioning.api.serializers.rotation import RotateCredentialsSerializer, SecretMetadataSerializer
from provisioning.api.serializers.runs import ReconcileRunSerializer
from provisioning.api.serializers.upgrades import UpgradeSerializer as UpgradeProgressSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.choices import Via
from provisioning.filtersets import RegistryFilterSet
from provisioning.health import verdicts
from provisioning.models import ManagedResource, ReconcileRun, Registry, Upgrade
from provisioning.reconcile.errors import InvalidSpec
from provisioning.reconcile.export import export_helm_values, export_manifests_yaml
from provisioning.services import registries as services
from provisioning.services.errors import ActionRefused
from provisioning.services.rotation import rotate_credentials

ACCEPTED = OpenApiResponse(ReconcileRunSerializer, description="Accepted: poll the run at Location.")
UPGRADE_STARTED = OpenApiResponse(
    UpgradeProgressSerializer,
    description="Accepted: the step-by-step upgrade started; follow it at Location (/api/v1/upgrades/<id>/). "
    "When a pre-flight check failed it is halted at step preflight with the reason and each check, and nothing "
    "else changed.",
)
VERSION_CHANGED = OpenApiResponse(
    ReconcileRunSerializer,
    description="Only for a registry never deployed (no deployed_version: it never was Ready, no Harbor ran on its "
    "database, so there is nothing to migrate): its version changed in place; the body is the reconcile run that "
    "deploys it, to poll at Location (/api/v1/runs/<id>/).",
)
RUN_LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[200],
    description="The reconcile run to poll.",
)
OPERATIONS = (
    "reconcile",
    "suspend",
    "resume",
    "upgrade",
    "rotate_credentials",
    "soft_delete",
    "purge",
    "destroy",
)


def registry_queryset(detail: bool = False) -> QuerySet[Registry]:
    """Registries with everything their serializer reads, in a constant number of queries per page."""
    latest = ReconcileRun.objects.filter(registry=OuterRef("pk")).order_by("-requested_at", "-id")
    queryset = Registry.objects.with_related().annotate(
        latest_run_id=Subquery(latest.values("id")[:1]),
        latest_run_status=Subquery(latest.values("status")[:1]),
        latest_run_operation=Subquery(latest.values("operation")[:1]),
    )
    if detail:
        resources = ManagedResource.objects.only("registry_id", *ManagedResourceSerializer.Meta.fields)
        queryset = queryset.select_related("database", "cache", "storage", "ingress").prefetch_related(
            "components", Prefetch("resources", queryset=resources)
        )
    return queryset.order_by("tenant__slug", "name")


@contextmanager
def rendering_refusals() -> Iterator[None]:
    """A stack that cannot be rendered yet (e.g. its database is not provisioned) is a 409 with the reason."""
    try:
        yield
    except InvalidSpec as error:
        raise ActionRefused(
            f"The registry's stack cannot be rendered yet: {error}", code="not_renderable"
        ) from error


class FirstRendererNegotiation(BaseContentNegotiation):
    """For exports: the body is YAML whatever the client accepts; errors keep the JSON error shape."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: str | None = None) -> Any:
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["registries"])
class RegistryViewSet(mixins.ListModelMixin, ApiViewSet):
    filterset_class = RegistryFilterSet
    ordering_fields = [
        "name",
        "tenant__slug",
        "hostname",
        "harbor_version",
        "phase",
        "phase_since",
        "created_at",
        "updated_at",
        "last_reconciled_at",
    ]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "manifests": "view",
        "helm_values": "view",
        "secrets": "view_secrets_metadata",
        "create": "create",
        "partial_update": "change",
        "reconcile": "reconcile",
        "suspend": "suspend",
        "resume": "resume",
        "upgrade": "upgrade",
        "rotate_credentials": "rotate",
        "soft_delete": "delete",
        "destroy": "delete",
        "purge": "purge",
    }
    idempotent_actions = ("create",)
    if_match_actions = ("partial_update", *OPERATIONS)
    etag_actions = ("create", "retrieve", "partial_update")
    conditional_actions = ("retrieve",)
    location_actions = ("create", *OPERATIONS)
    error_codes = dict.fromkeys(("create", "partial_update", "manifests", "helm_values", *OPERATIONS), (409,))

    def get_queryset(self) -> QuerySet[Registry]:
        return registry_queryset(detail=self.action != "list")

    def get_serializer_class(self) -> type[BaseSerializer[Any]]:
        return RegistrySerializer if self.action == "list" else RegistryDetailSerializer

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        """A page of registries gets every health verdict at once: one reading of the metrics for the page."""
        if kwargs.get("many") and args and isinstance(args[0], list) and not self.brief():
            kwargs.setdefault("context", self.get_serializer_context())["verdicts"] = verdicts(args[0])
        return super().get_serializer(*args, **kwargs)

    def detail_response(self, registry: Registry | int, status: int = 200) -> Response:
        """The registry as GET shows it, with its ETag (read afresh when given an id)."""
        if not isinstance(registry, Registry):
            registry = registry_queryset(detail=True).get(pk=registry)
        data = RegistryDetailSerializer(registry, context=self.get_serializer_context()).data
        headers = {"ETag": registry_etag(registry)}
        if status == 201:
            headers["Location"] = str(data["url"])
        return Response(data, status=status, headers=headers)

    def locked_registry(self) -> Registry:
        """The registry of the URL, locked until the transaction ends, after checking ``If-Match``."""
        registry = get_object_or_404(
            Registry.objects.select_for_update(of=("self",)).with_related(), pk=self.kwargs["pk"]
        )
        check_if_match(self.request, registry)
        return registry

    def run_operation(self, operate: Callable[[Registry], ReconcileRun]) -> Response:
        with transaction.atomic():
            run = operate(self.locked_registry())
        return self.run_answer(run)

    def run_answer(self, run: ReconcileRun, status: int = 202) -> Response:
        """202 (or ``status``) with the run to poll, its URL in ``Location``."""
        run = ReconcileRun.objects.select_related("registry__tenant", "requested_by").get(pk=run.pk)
        data = ReconcileRunSerializer(run, context=self.get_serializer_context()).data
        return Response(data, status=status, headers={"Location": str(data["url"])})

    def actor(self) -> dict[str, Any]:
        return {"actor": self.request.user, "via": Via.API}

    @extend_schema(responses={200: RegistryDetailSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        """A registry with its components, bindings, resources, conditions and ETag; 304 with no body when
        ``If-None-Match`` names its current ETag."""
        registry = self.get_object()
        etag = registry_etag(registry)
        if not_modified(request, etag):
            return Response(status=304, headers={"ETag": etag})
        return self.detail_response(registry)

    @extend_schema(request=RegistryCreateSerializer, responses={201: RegistryDetailSerializer})
    def create(self, request: Request) -> Response:
        """Create a registry; its first reconciliation is queued (see latest_run)."""
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        serializer = RegistryCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        registry = services.create_registry(**self.actor(), **serializer.validated_data)
        return self.detail_response(registry.pk, status=201)

    @extend_schema(request=RegistryUpdateSerializer, responses={200: RegistryDetailSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change the plan, overrides or host name; a change of spec queues a reconciliation."""
        serializer = RegistryUpdateSerializer(
            data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            registry = self.locked_registry()
            services.update_registry(registry, dict(serializer.validated_data), **self.actor())
        return self.detail_response(registry.pk)

    @extend_schema(request=None, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"])
    def reconcile(self, request: Request, pk: str) -> Response:
        """Reconcile now (a queued reconciliation is reused, not duplicated)."""
        return self.run_operation(lambda registry: services.reconcile_now(registry, **self.actor()))

    @extend_schema(request=None, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        """Scale the registry's workloads to zero; data and configuration are kept."""
        return self.run_operation(lambda registry: services.suspend(registry, **self.actor()))

    @extend_schema(request=None, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Run a suspended registry again."""
        return self.run_operation(lambda registry: services.resume(registry, **self.actor()))

    @extend_schema(
        request=UpgradeSerializer,
        responses={202: UPGRADE_STARTED, 200: VERSION_CHANGED},
        parameters=[RUN_LOCATION],
    )
    @action(detail=True, methods=["post"])
    def upgrade(self, request: Request, pk: str) -> Response:
        """Move to another Harbor version: any newer patch, a newer minor only from the two previous minors,
        never down; a path that is not allowed is refused with 400 and the reason, a registry already being
        upgraded with 409. It starts the step-by-step upgrade (as POST /api/v1/upgrades/ does): pre-flight,
        Harbor's schema migration as a Job once before the new core, then each component in Harbor's order,
        each Ready before the next. Only a registry never deployed changes its version in place (200 with the run)."""
        serializer = UpgradeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        target = serializer.validated_data["target_version"]
        with transaction.atomic():
            result = services.upgrade(self.locked_registry(), target, **self.actor())
        if isinstance(result, ReconcileRun):
            return self.run_answer(result, status=200)
        upgrade = Upgrade.objects.select_related("registry__tenant").get(pk=result.pk)
        data = UpgradeProgressSerializer(upgrade, context=self.get_serializer_context()).data
        return Response(data, status=202, headers={"Location": str(data["url"])})

    @extend_schema(request=RotateCredentialsSerializer, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"], url_path="rotate-credentials")
    def rotate_credentials(self, request: Request, pk: str) -> Response:
        """Generate new credentials of the given kinds and roll them out; the old ones work until the rollout
        is Ready."""
        serializer = RotateCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        kinds = serializer.validated_data.get("kinds")
        return self.run_operation(lambda registry: rotate_credentials(registry, kinds, **self.actor()))

    @extend_schema(request=None, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"], url_path="delete", url_name="delete")
    def soft_delete(self, request: Request, pk: str) -> Response:
        """Delete the registry's stack; its data (database, bucket) is kept until a purge."""
        return self.run_operation(lambda registry: services.delete(registry, **self.actor()))

    @extend_schema(request=None, responses={202: ACCEPTED})
    def destroy(self, request: Request, pk: str) -> Response:
        """Same as POST …/delete/: the stack goes, the data stays until a purge."""
        return self.run_operation(lambda registry: services.delete(registry, **self.actor()))

    @extend_schema(request=PurgeSerializer, responses={202: ACCEPTED})
    @action(detail=True, methods=["post"])
    def purge(self, request: Request, pk: str) -> Response:
        """Remove a deleted registry's data for good, once its retention period is over (admins only).
        A bucket that still holds objects is removed only with ``force``."""
        serializer = PurgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        force = serializer.validated_data["force"]
        return self.run_operation(lambda registry: services.purge(registry, force=force, **self.actor()))

    @extend_schema(responses={(200, "text/yaml"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], content_negotiation_class=FirstRendererNegotiation)
    def manifests(self, request: Request, pk: str) -> HttpResponse:
        """Every Kubernetes object of the registry's stack as one YAML stream; Secret values are redacted."""
        registry = self.get_object()
        with rendering_refusals():
            text = export_manifests_yaml(registry)
        response = HttpResponse(text, content_type="text/yaml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{registry.namespace}.yaml"'
        return response

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], url_path="helm-values", url_name="helm-values")
    def helm_values(self, request: Request, pk: str) -> Response:
        """The registry's settings as values of the goharbor/harbor-helm chart, secrets redacted."""
        registry = self.get_object()
        with rendering_refusals():
            values = yaml.safe_load(export_helm_values(registry))
        return Response(values)

    @extend_schema(responses={200: SecretMetadataSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def secrets(self, request: Request, pk: str) -> Response:
        """When each generated secret was created and last rotated (admins only; never a value)."""
        registry = self.get_object()
        rows = registry.secrets.order_by("name").values("name", "created_at", "rotated_at")
        return Response(SecretMetadataSerializer(rows, many=True).data)
