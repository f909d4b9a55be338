"""API tokens of the caller: the raw key is in the answer to the creation, and never again."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.models import ApiToken
from provisioning.models.tokens import TokenScope


class ApiTokenSerializer(StrictFieldsMixin, serializers.ModelSerializer[ApiToken]):
    url = serializers.HyperlinkedIdentityField(view_name="api:apitoken-detail")
    active = serializers.SerializerMethodField(help_text="Neither revoked nor expired.")
    state = serializers.ChoiceField(
        choices=["active", "expired", "revoked"],
        read_only=True,
        help_text="Whether the token is accepted now.",
    )
    scope = serializers.ChoiceField(
        choices=TokenScope.choices,
        required=False,
        help_text="What the token may do: read-only, operator or admin, within your role (your role when "
        "omitted). A token never does more than its owner's role at the time it is used.",
    )
    expires_in_days = serializers.IntegerField(
        write_only=True,
        required=False,
        min_value=1,
        help_text="Lifetime in days (API_TOKEN_DEFAULT_DAYS when omitted, at most API_TOKEN_MAX_DAYS).",
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "url",
            "name",
            "prefix",
            "scope",
            "active",
            "state",
            "created_at",
            "expires_at",
            "expires_in_days",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]
        extra_kwargs: dict[str, Any] = {
            "last_used_at": {"help_text": "Last request made with the token, to the minute."}
        }

    def get_active(self, token: ApiToken) -> bool:
        return token.state == "active"

    def validate_expires_in_days(self, value: int) -> int:
        if value > settings.API_TOKEN_MAX_DAYS:
            raise serializers.ValidationError(
                f"At most {settings.API_TOKEN_MAX_DAYS} days (API_TOKEN_MAX_DAYS)."
            )
        return value


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The token itself: send it as 'Authorization: Bearer <key>'. Shown only in this answer.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
