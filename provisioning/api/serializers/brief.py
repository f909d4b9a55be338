"""The brief representation of a list (``?brief=true``): each object's id, URL and display name only, for
pickers and scripts that select before they act."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import serializers

_BRIEF: dict[tuple[type[Model], str], type[serializers.ModelSerializer[Any]]] = {}


def brief_serializer(model: type[Model], view_name: str) -> type[serializers.ModelSerializer[Any]]:
    """The brief serializer of ``model`` (one class per model, named ``<Model>BriefSerializer`` for the schema)."""
    key = (model, view_name)
    if key not in _BRIEF:
        meta = type("Meta", (), {"model": model, "fields": ["id", "url", "display"]})
        attributes = {
            "url": serializers.HyperlinkedIdentityField(view_name=view_name),
            "display": serializers.CharField(
                source="__str__", read_only=True, help_text="How the console names the object."
            ),
            "Meta": meta,
            "__module__": __name__,
        }
        _BRIEF[key] = type(f"{model.__name__}BriefSerializer", (serializers.ModelSerializer,), attributes)
    return _BRIEF[key]
