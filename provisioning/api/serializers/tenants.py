"""Tenants: the provider's customers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.api.serializers.base import CleanedModelSerializer
from provisioning.models import Tenant


class TenantSerializer(CleanedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:tenant-detail")
    registry_count = serializers.IntegerField(read_only=True, help_text="Registries not yet purged.")

    class Meta:
        model = Tenant
        fields = [
            "id",
            "url",
            "slug",
            "name",
            "contact_email",
            "notes",
            "registry_count",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"notes": {"max_length": 10_000}}

    WRITABLE = ("slug", "name", "contact_email", "notes")

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError(
                "A tenant's slug cannot change: its registries' namespaces are named after it."
            )
        return value

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)
        if data.get("registry_count") is None:
            data["registry_count"] = 0
        return data
