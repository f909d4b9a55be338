"""One error shape for every error of the API, 5xx included: ``{"error": {"code", "message", "fields"}}``.

``code`` is stable for automation (``invalid``, ``not_found``, ``permission_denied``, ``precondition_failed``,
``idempotency_key_reused``, a service's refusal code, …), ``message`` is a sentence for a person and ``fields``
maps a request field to its messages. ``page_not_found`` and ``server_error`` are Django's 404 and 500 handlers
(see ``harborconsole/urls.py``): under /api/ they answer the same shape, elsewhere the console's pages.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from provisioning.services.errors import ActionRefused


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it: read it again and retry with its new ETag."
    default_code = "precondition_failed"


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used for a different request."
    default_code = "idempotency_key_reused"


class BodyTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the API takes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
    default_code = "body_too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the object."
    default_code = "conflict"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list):
        return [str(item) for sub in detail for item in _flatten(sub)]
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    return [str(detail)]


def _translate(exc: Exception) -> Exception:
    """Django and database exceptions → the DRF exception that says the same to a client."""
    if isinstance(exc, DjangoValidationError):
        fields = (
            {f: [str(m) for e in errs for m in e.messages] for f, errs in exc.error_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": list(exc.messages)}
        )
        return exceptions.ValidationError(
            {("non_field_errors" if k == "__all__" else k): v for k, v in fields.items()}
        )
    if isinstance(exc, RequestDataTooBig):
        return BodyTooLarge()
    if isinstance(exc, Http404):
        return exceptions.NotFound("No such object: check the id in the URL.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, ProtectedError | RestrictedError):
        names = sorted({str(obj) for obj in list(exc.args[1])[:5]})
        return Conflict(f"Other objects still use it ({', '.join(names)}): remove or move them first.")
    if isinstance(exc, IntegrityError):
        return Conflict("The change conflicts with an existing object (a name or host name already taken?).")
    if isinstance(exc, DataError):
        return exceptions.ValidationError({"non_field_errors": ["A value is out of range or malformed."]})
    return exc


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ActionRefused):
        set_rollback()
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response(error_body(exc.code, exc.message, fields), status=exc.status)
    exc = _translate(exc)
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


API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: the JSON error under /api/ (any path, any credentials), the page elsewhere."""
    if _is_api(request):
        message = "No such API path: see /api/schema/ or /api/docs/ for the paths there are."
        return JsonResponse(error_body("not_found", message), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler: the JSON error under /api/ (the cause is logged, never shown), the page elsewhere."""
    if _is_api(request):
        message = "The server failed to answer this request; it was logged. Retry later or report it."
        return JsonResponse(error_body("server_error", message), status=500)
    return defaults.server_error(request)
