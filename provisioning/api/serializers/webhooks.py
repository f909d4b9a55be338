"""Webhook subscriptions and their delivery log. The secret is write-only: never shown back."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.api.serializers.base import CleanedModelSerializer
from provisioning.events import addresses, types
from provisioning.models import DeliveryAttempt, WebhookDelivery, WebhookSubscription

SECRET_MIN_LENGTH = 16


class WebhookSubscriptionSerializer(CleanedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:webhooksubscription-detail")
    secret = serializers.CharField(
        write_only=True,
        min_length=SECRET_MIN_LENGTH,
        max_length=200,
        trim_whitespace=False,
        help_text="Signs every delivery (HMAC-SHA256). Write-only: it is never shown back.",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=types.FULL_NAMES),
        required=False,
        allow_empty=True,
        help_text="The event types to send; empty or left out for every type.",
    )
    owner: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    WRITABLE = (*WebhookSubscription.EDITABLE_FIELDS, "secret")

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "name",
            "target_url",
            "secret",
            "event_types",
            "active",
            "owner",
            "created_at",
            "updated_at",
        ]

    def validate_target_url(self, value: str) -> str:
        try:
            addresses.check_url(value)
        except addresses.UrlRefused as refused:
            raise serializers.ValidationError(str(refused)) from refused
        return value

    def validate_event_types(self, value: list[str]) -> list[str]:
        return sorted(set(value))


class DeliveryAttemptSerializer(serializers.ModelSerializer[DeliveryAttempt]):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "sent_at", "status_code", "error", "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    event_id = serializers.IntegerField(source="event.pk", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    sequence = serializers.IntegerField(source="event.sequence", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "registry_id",
            "sequence",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
            "finished_at",
            "attempt_log",
        ]
        read_only_fields = fields
