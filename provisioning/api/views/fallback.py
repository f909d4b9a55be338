"""Any other path under /api/v1/ answers 404 in the API's error shape rather than an HTML page."""

from __future__ import annotations

from django.urls import Resolver404, resolve
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
def not_found(request: Request, *args: object, **kwargs: object) -> Response:
    path = request.path
    if not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not-found":
            raise exceptions.NotFound(f"No such API path: did you mean {path}/ (with a trailing slash)?")
    raise exceptions.NotFound("No such API path: see /api/schema/ or /api/docs/ for the paths there are.")
