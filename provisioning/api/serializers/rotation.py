"""Credential rotation: which credentials to rotate, and what may be shown of a registry's generated secrets."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.api.serializers.base import StrictFieldsMixin
from provisioning.models import SecretName
from provisioning.services.rotation import ROTATABLE_KINDS


class RotateCredentialsSerializer(StrictFieldsMixin, serializers.Serializer[Any]):
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ROTATABLE_KINDS)),
        min_length=1,
        max_length=len(ROTATABLE_KINDS),
        required=False,
        help_text="Which services' credentials to rotate; omit for every one the console can rotate.",
    )


class SecretMetadataSerializer(serializers.Serializer[Any]):
    """A generated secret's name and dates; its value is never returned."""

    name = serializers.ChoiceField(choices=SecretName.choices)
    created_at = serializers.DateTimeField()
    rotated_at = serializers.DateTimeField(allow_null=True)
