"""Plans: the defaults and limits a registry inherits."""

from __future__ import annotations

import re

from rest_framework import serializers

from provisioning.api.serializers.base import CleanedModelSerializer
from provisioning.models import Plan

QUANTITY_HELP = "A Kubernetes quantity, e.g. 500m or 2 (CPU), 512Mi or 2Gi (memory)."
QUANTITY_FIELDS = Plan.QUANTITY_FIELDS
_QUANTITY = re.compile(r"^(\d+(\.\d+)?|\.\d+)([KMGTPE]i|[mkMGTPE])?$")


def validate_quantity(value: str) -> None:
    if not _QUANTITY.match(value):
        raise serializers.ValidationError(f"{value!r} is not a Kubernetes quantity. {QUANTITY_HELP}")


class PlanSerializer(CleanedModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:plan-detail")
    registry_count = serializers.IntegerField(read_only=True, default=0)

    WRITABLE = Plan.EDITABLE_FIELDS

    class Meta:
        model = Plan
        fields = [
            "id",
            "url",
            *Plan.EDITABLE_FIELDS,
            "registry_count",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {
            "description": {"max_length": 10_000},
            **{
                name: {"help_text": QUANTITY_HELP, "validators": [validate_quantity]}
                for name in QUANTITY_FIELDS
            },
        }
