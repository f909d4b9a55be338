"""A registry's provider Redis endpoint: what the provider's Redis service handed out; the password write-only."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.choices import BindingStatus, CacheMode, WhoseMove
from provisioning.models import CacheBinding


class CacheEndpointSerializer(StrictFieldsMixin, serializers.ModelSerializer[CacheBinding]):
    """Host, port, user, password and TLS of the registry's Redis; ``password`` is never returned."""

    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=512,
        style={"input_type": "password"},
        help_text="Write-only; empty or left out keeps the stored password.",
    )
    password_set = serializers.SerializerMethodField(
        help_text="Whether a password is stored (it is never shown)."
    )
    port = serializers.IntegerField(min_value=1, max_value=65535, required=False)
    mode = serializers.ChoiceField(choices=CacheMode.choices, read_only=True)
    status = serializers.ChoiceField(choices=BindingStatus.choices, read_only=True)
    whose_move = serializers.ChoiceField(choices=WhoseMove.choices, read_only=True)

    class Meta:
        model = CacheBinding
        fields = [
            "mode",
            "host",
            "port",
            "username",
            "password",
            "password_set",
            "tls",
            "sentinel_master",
            "status",
            "status_message",
            "whose_move",
            "last_checked_at",
        ]
        read_only_fields = ["status_message", "last_checked_at"]
        extra_kwargs = {
            "host": {"help_text": "Host name or address; several, comma-separated, for Sentinel."},
            "username": {"required": False, "help_text": "Redis ACL user, if the provider gave one."},
            "tls": {"required": False},
            "sentinel_master": {"required": False},
        }

    def get_password_set(self, binding: CacheBinding) -> bool:
        return bool(binding.password)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs  # the service function checks the endpoint as a whole (uniqueness included)
