"""Pagination of every API list: ``limit`` (1 to 200, 50 by default) and ``offset``, with the total count.

A ``limit`` or ``offset`` that is not a whole number in range is a 400, not silently replaced by the default.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


def _whole_number(request: Any, name: str, minimum: int, maximum: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
        raise exceptions.ValidationError({name: [f"Give a whole number {bound}."]})
    return value


class ApiPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def get_limit(self, request: Any) -> int:
        value = _whole_number(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if value is None else value

    def get_offset(self, request: Any) -> int:
        value = _whole_number(request, self.offset_query_param, 0, None)
        return 0 if value is None else min(value, MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            self.offset_query_param: {"minimum": 0, "default": 0},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
