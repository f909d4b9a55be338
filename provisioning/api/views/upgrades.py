"""Upgrades (``/api/v1/upgrades/``) and waves (``/api/v1/waves/``): start, follow, resume, roll back, abort."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning.api.serializers.upgrades import (
    UpgradeRequestSerializer,
    UpgradeSerializer,
    WaveSerializer,
)
from provisioning.api.views.base import ApiViewSet
from provisioning.choices import Via
from provisioning.models import Registry, Upgrade, Wave, WaveMember
from provisioning.services.registries import refuse_upgrade
from provisioning.upgrades import operation, waves


@extend_schema(tags=["upgrades"])
class UpgradeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """An upgrade is started here, then followed step by step."""

    serializer_class = UpgradeSerializer
    ordering_fields = ["created_at", "finished_at", "status"]
    filterset_fields = ["registry", "status", "wave"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "upgrade",
        "resume": "upgrade",
        "rollback": "upgrade",
    }
    error_codes = {"create": (409,), "resume": (409,), "rollback": (409,)}
    location_actions = ("create",)

    def get_queryset(self) -> QuerySet[Upgrade]:
        return Upgrade.objects.select_related("registry__tenant").order_by("-created_at", "-id")

    @extend_schema(request=UpgradeRequestSerializer, responses={201: UpgradeSerializer})
    def create(self, request: Request) -> Response:
        """Start a registry's upgrade. Refused with nothing stored, as every upgrade entry point refuses: a path the
        catalogue forbids (400 ``upgrade_not_allowed`` on target_version), an upgrade under way (409
        ``upgrade_under_way``), a deleted registry (409 ``registry_deleted``). A failed pre-flight answers 201 with
        the upgrade halted and its checks (nothing else changed)."""
        serializer = UpgradeRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        registry = Registry.objects.select_related("cluster", "database", "cache", "storage").get(
            pk=data["registry"]
        )
        refuse_upgrade(registry, data["target_version"])
        upgrade = operation.start_upgrade(
            registry,
            data["target_version"],
            actor=request.user,
            via=Via.API,
            budget_seconds=data.get("budget_seconds"),
        )
        return self.created(self.get_serializer(self.get_queryset().get(pk=upgrade.pk)).data)

    @extend_schema(request=None, responses={200: UpgradeSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Try the step that halted again, with a fresh time budget."""
        upgrade = operation.resume(self.get_object(), actor=request.user, via=Via.API)
        return Response(self.get_serializer(self.get_queryset().get(pk=upgrade.pk)).data)

    @extend_schema(request=None, responses={200: UpgradeSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str) -> Response:
        """Put every component back on the previous version; refused (409, with why) once the schema migrated."""
        upgrade = operation.rollback(self.get_object(), actor=request.user, via=Via.API)
        return Response(self.get_serializer(self.get_queryset().get(pk=upgrade.pk)).data)


def wave_queryset() -> QuerySet[Wave]:
    members = WaveMember.objects.select_related("registry__tenant").order_by("id")
    return Wave.objects.prefetch_related("batches", Prefetch("batches__members", queryset=members)).order_by(
        "-created_at", "-id"
    )


@extend_schema(tags=["waves"])
class WaveViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    """A wave is planned (its batches fixed at once), then started; it halts on a failing batch."""

    serializer_class = WaveSerializer
    ordering_fields = ["created_at", "status"]
    filterset_fields = ["status"]
    action_permissions = {
        "list": "view",
        "retrieve": "view",
        "create": "upgrade",
        "start": "upgrade",
        "resume": "upgrade",
        "abort": "upgrade",
    }
    error_codes = {"create": (409,), "start": (409,), "resume": (409,), "abort": (409,)}
    location_actions = ("create",)

    def get_queryset(self) -> QuerySet[Wave]:
        return wave_queryset()

    def create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wave = waves.plan_wave(Wave(**serializer.validated_data), actor=request.user, via=Via.API)
        return self.created(self.get_serializer(self.get_queryset().get(pk=wave.pk)).data)

    def _answer(self, wave: Wave) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=wave.pk)).data)

    @extend_schema(request=None, responses={200: WaveSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        """Start a planned wave: its first batch begins at once."""
        return self._answer(waves.start_wave(self.get_object(), actor=request.user, via=Via.API))

    @extend_schema(request=None, responses={200: WaveSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        """Accept the batch that failed and go on with the next one."""
        return self._answer(waves.resume_wave(self.get_object(), actor=request.user, via=Via.API))

    @extend_schema(request=None, responses={200: WaveSerializer})
    @action(detail=True, methods=["post"])
    def abort(self, request: Request, pk: str) -> Response:
        """Stop the wave: no batch starts any more; upgrades under way halt where they are."""
        return self._answer(waves.abort_wave(self.get_object(), actor=request.user, via=Via.API))
