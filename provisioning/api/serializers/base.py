"""What every write serializer of the API shares: unknown fields refused, the model's own rules applied."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import models
from rest_framework import serializers

MAX_INT = 2**31 - 1
MAX_SMALL_INT = 2**15 - 1


def json_type_error(field: Any, value: Any) -> str | None:
    """What is wrong with the JSON type of ``value`` for ``field``, or None.

    DRF coerces (``0`` becomes the name ``"0"``, ``"1"`` becomes ``true``); automation deserves to hear that it
    sent a number where a string belongs, so a write takes each value in the JSON type its schema states.
    """
    if value is None:
        return None  # the field's own null rule answers
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        if not isinstance(value, list):
            return "Expected a list."
        return next((error for item in value if (error := json_type_error(field.child, item))), None)
    if isinstance(field, serializers.DictField):
        if not isinstance(value, dict):
            return "Expected an object."
        return next((error for item in value.values() if (error := json_type_error(field.child, item))), None)
    if isinstance(field, serializers.BaseSerializer):
        return None if isinstance(value, dict) else "Expected an object."
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Expected true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Expected a whole number."
    if isinstance(field, serializers.CharField | serializers.ChoiceField | serializers.RelatedField):
        return None if isinstance(value, str) else "Expected a string."
    return None


class StrictFieldsMixin:
    """Refuse a body naming a field the resource does not have (a typo must not be silently ignored), or giving a
    value in another JSON type than the schema states."""

    fields: Any

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            errors = {
                str(name): ["This resource has no such field: check its spelling in the schema."]
                for name in data
                if name not in self.fields
            }
            for name, value in data.items():
                field = self.fields.get(name)
                if field is not None and not field.read_only and (error := json_type_error(field, value)):
                    errors[str(name)] = [error]
            if errors:
                raise serializers.ValidationError(errors)
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
