"""Webhook subscriptions: admins list, create, change and delete them (audited); each one's delivery log."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning.api.serializers.webhooks import WebhookDeliverySerializer, WebhookSubscriptionSerializer
from provisioning.api.views.base import AuditedCrudViewSet
from provisioning.models import DeliveryAttempt, WebhookDelivery, WebhookSubscription

LOG_LENGTH = 100


@extend_schema(tags=["webhooks"])
class WebhookSubscriptionViewSet(AuditedCrudViewSet):
    serializer_class = WebhookSubscriptionSerializer
    ordering_fields = ["name", "created_at"]
    filter_backends: list[type] = []
    action_permissions = dict.fromkeys(
        ("list", "retrieve", "create", "update", "partial_update", "destroy", "deliveries"), "manage_webhooks"
    )

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return WebhookSubscription.objects.select_related("owner").order_by("name", "id")

    def save_new(self, serializer: WebhookSubscriptionSerializer) -> WebhookSubscription:
        serializer.validated_data["owner"] = self.request.user
        instance = super().save_new(serializer)
        assert isinstance(instance, WebhookSubscription)
        return instance

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def deliveries(self, request: Request, pk: str) -> Response:
        """The subscription's last 100 deliveries, newest first, each with its attempts (status code, error,
        duration)."""
        subscription = self.get_object()
        attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
        rows = (
            WebhookDelivery.objects.filter(subscription=subscription)
            .select_related("event")
            .prefetch_related(attempts)
            .order_by("-id")
        )
        return Response(WebhookDeliverySerializer(rows[:LOG_LENGTH], many=True).data)
