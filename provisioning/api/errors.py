"""One error shape for every 4xx of the API: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from provisioning.services.errors import ActionRefused


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for sub in detail for item in _flatten(sub)]
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    return [str(detail)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ActionRefused):
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        fields = (
            {f: [str(m) for e in errs for m in e.messages] for f, errs in exc.error_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": list(exc.messages)}
        )
        exc = exceptions.ValidationError(fields)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("No such object: check the id in the URL.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail: Any = exc.detail
        if isinstance(detail, dict):
            fields = {str(k): _flatten(v) for k, v in detail.items()}
        else:
            fields = {"non_field_errors": _flatten(detail)}
        summary = "; ".join(
            f"{k}: {v[0]}" if k != "non_field_errors" else v[0] for k, v in fields.items() if v
        )
        response.data = error_body("invalid", f"The request is not valid. {summary}".strip(), fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        message = " ".join(_flatten(detail))
        response.data = error_body(code if isinstance(code, str) else "error", message)
    return response
