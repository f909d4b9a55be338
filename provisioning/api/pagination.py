"""Pagination of every API list: ``limit`` (at most 200) and ``offset``, with the total count."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 10**9


class ApiPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

    def get_offset(self, request: Any) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
