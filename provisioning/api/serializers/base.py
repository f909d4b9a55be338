"""What every write serializer of the API shares: unknown fields refused, the model's own rules applied."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import models
from rest_framework import serializers

MAX_INT = 2**31 - 1
MAX_SMALL_INT = 2**15 - 1


class StrictFieldsMixin:
    """Refuse a body naming a field the resource does not have: a typo must not be silently ignored."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(str(name) for name in data if name not in self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: ["This resource has no such field: check its spelling in the schema."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class CleanedModelSerializer(StrictFieldsMixin, serializers.ModelSerializer[Any]):
    """A model serializer that also runs the model's ``clean()`` on the object as it would be saved."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        model: type[models.Model] = self.Meta.model
        candidate = copy.copy(self.instance) if self.instance else model()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        candidate.clean()
        return attrs


def model_snapshot(instance: models.Model, names: list[str]) -> dict[str, Any]:
    """The values of ``names`` on ``instance``, for an audit diff (secrets are masked by the audit module)."""
    return {name: getattr(instance, name) for name in names}
