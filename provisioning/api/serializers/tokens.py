"""API tokens of the caller: the raw key is in the answer to the creation, and never again."""

from __future__ import annotations

from rest_framework import serializers

from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.models import ApiToken


class ApiTokenSerializer(StrictFieldsMixin, serializers.ModelSerializer[ApiToken]):
    url = serializers.HyperlinkedIdentityField(view_name="api:apitoken-detail")
    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["id", "url", "name", "prefix", "active", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_active(self, token: ApiToken) -> bool:
        return token.revoked_at is None


class NewApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(
        read_only=True,
        help_text="The token itself: send it as 'Authorization: Bearer <key>'. Shown only in this answer.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
