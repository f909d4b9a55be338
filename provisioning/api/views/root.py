"""``GET /api/v1/``: the collections there are, and which installation answers."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.routers import APIRootView

from provisioning.models import installation_id


class ConsoleRootView(APIRootView):
    """Links to every collection, plus the installation id that marks what this console owns."""

    @extend_schema(
        operation_id="api_root",
        responses=inline_serializer(
            "ApiRoot",
            {
                "installation": serializers.CharField(),
                "collections": serializers.DictField(child=serializers.URLField()),
            },
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        collections = {
            key: reverse(
                f"{namespace}:{name}" if namespace else name, request=request, format=kwargs.get("format")
            )
            for key, name in (self.api_root_dict or {}).items()
        }
        return Response({"installation": installation_id(), "collections": collections})
