"""OpenAPI 3 of the API: the one error component, the token security scheme, and the schema and docs views.

Every operation documents the errors it can answer with (all in the one error shape): 400 (any request may name
an unknown query parameter), 401, 403 and 429 (with ``Retry-After``) always, 404 on an object's URL, 413 and 415
on bodies, plus what a viewset declares per action in ``error_codes`` (409 refused, 412 stale ``If-Match``, 422
reused ``Idempotency-Key``). Request headers ``Idempotency-Key`` (with its format), ``If-Match`` and
``If-None-Match`` and response headers ``ETag``, ``Location`` and ``Idempotent-Replayed`` come from the viewset's
``idempotent_actions``, ``if_match_actions``, ``conditional_actions``, ``etag_actions`` and ``location_actions``.
Numeric ids in paths are integers; a list answers full or brief objects (``brief``). Closed request bodies and
links are added after generation (:mod:`provisioning.api.schema_hooks`). The generated document is committed as
``docs/openapi.yaml`` (``make openapi``).

The schema needs a login like every other page: a token (``Authorization: Bearer hc_…``) or a console session, and
at least the viewer role. Swagger UI redirects to the login page and fetches the schema with the session; it is
served in two requests (page, then its script) so that no inline script is needed under the Content-Security-Policy.
ReDoc is not served: its page fetched fonts from the internet and needs inline styles.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from provisioning.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from provisioning.api.permissions import RolePermission
from provisioning.authentication import ApiTokenAuthentication
from provisioning.filtersets import MAX_ID

NUMERIC_ID = "^[0-9]+$"

ERROR_DESCRIPTIONS = {
    400: "The request is not valid: `fields` says which value is wrong and why.",
    401: "No credentials, or an unknown or revoked token.",
    403: "Your role does not allow this.",
    404: "No such object.",
    409: "Refused in the object's current state: `message` says why and what to do.",
    412: "`If-Match` does not name the object's current ETag: read it again and retry.",
    413: "The body is larger than the API takes.",
    415: "Send the body as JSON (`Content-Type: application/json`).",
    422: "This `Idempotency-Key` was already used for a different request.",
    429: "Too many requests with this token: wait `Retry-After` seconds.",
}


ERROR_DETAIL = inline_serializer(
    "ErrorDetail",
    {
        "code": serializers.CharField(
            help_text="Stable code for automation, e.g. `invalid` or `upgrade_not_allowed`."
        ),
        "message": serializers.CharField(help_text="What went wrong and what to do, as a sentence."),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Messages per request field (`non_field_errors` for the request as a whole).",
        ),
    },
)


class ErrorSerializer(serializers.Serializer[Any]):
    error = ERROR_DETAIL


def error_response(code: int) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code])


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN.pattern},
    OpenApiParameter.HEADER,
    description=f"A key you generate per operation (e.g. a UUID): 1 to {MAX_KEY_LENGTH} printable ASCII "
    "characters. Retrying with the same key and body returns the first result (with `Idempotent-Replayed: "
    "true`) instead of creating a duplicate; the same key with another body answers 422. Keys are kept 24 hours.",
)
IDEMPOTENT_REPLAYED = OpenApiParameter(
    "Idempotent-Replayed",
    {"type": "string", "enum": ["true"]},
    OpenApiParameter.HEADER,
    response=[201],
    description="Present when this answer replays the first request made with the same `Idempotency-Key`.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read. When given and the registry changed since, nothing is done and the answer "
    "is 412.",
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The ETag you read. When it is still the registry's current one the answer is 304 with no body.",
)


def etag_header(status: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[status],
        description="The registry's version, to send back in `If-Match` (or `If-None-Match`).",
    )


LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201, 202],
    description="The created object, or the reconcile run to poll.",
)
BRIEF = OpenApiParameter(
    "brief",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="true: each object's id, url and display name only (the `…Brief` shape).",
)
RETRY_AFTER = "Seconds to wait before the next request is allowed."


class ApiAutoSchema(AutoSchema):
    """AutoSchema that adds the error responses and the concurrency headers each operation can use, and types
    numeric ids as integers."""

    def _action(self) -> str:
        return getattr(self.view, "action", None) or ""

    def _declared(self, attribute: str) -> bool:
        return self._action() in getattr(self.view, attribute, ())

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("pattern") == NUMERIC_ID:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
        return parameters

    def _brief_class(self) -> Any:
        if self._action() != "list" or not hasattr(self.view, "brief_serializer_class"):
            return None
        return self.view.brief_serializer_class()

    def get_response_serializers(self) -> Any:
        """A list answers full objects, or brief ones with ``?brief=true``."""
        full = super().get_response_serializers()
        brief = self._brief_class()
        if brief is None or not isinstance(full, serializers.BaseSerializer | type):
            return full
        full_class = full if isinstance(full, type) else type(full)
        return PolymorphicProxySerializer(
            component_name=brief.__name__.removesuffix("BriefSerializer") + "ListItem",
            serializers=[full_class, brief],
            resource_type_field_name=None,
        )

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if self._brief_class() is not None:
            parameters.append(BRIEF)
        if self._declared("idempotent_actions"):
            parameters += [IDEMPOTENCY_KEY, IDEMPOTENT_REPLAYED]
        if self._declared("if_match_actions"):
            parameters.append(IF_MATCH)
        if self._declared("conditional_actions"):
            parameters.append(IF_NONE_MATCH)
        if self._declared("etag_actions"):
            parameters.append(etag_header(201 if self._action() == "create" else 200))
        if self._declared("location_actions"):
            parameters.append(LOCATION)
        return parameters

    def error_codes(self) -> set[int]:
        codes = {400, 401, 403, 429}  # 400: any request may name an unknown query parameter
        if "{" in self.path:
            codes.add(404)
        if self.method in ("POST", "PUT", "PATCH"):
            codes |= {413, 415}
        codes |= set(getattr(self.view, "error_codes", {}).get(self._action(), ()))
        if self._declared("idempotent_actions"):
            codes.add(422)
        if self._declared("if_match_actions"):
            codes.add(412)
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if self._declared("conditional_actions"):
            responses["304"] = {
                "description": "Not modified: the ETag in `If-None-Match` is still current (no body).",
                "headers": {"ETag": {"schema": {"type": "string"}, "description": "The current ETag."}},
            }
        for code in sorted(self.error_codes()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    error_response(code), str(code), direction=direction
                )
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer", "minimum": 0},
                "description": RETRY_AFTER,
            }
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "provisioning.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "hc_…",
            "description": "An API token created with POST /api/v1/tokens/ (or on your account page).",
        }


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: a token or a session, and at least the viewer role."""

    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [RolePermission]

    def handle_exception(self, exc: Exception) -> Response:
        """Errors in the API's JSON error shape, not in the schema's YAML."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


schema_view = SchemaView.as_view()
swagger_view = login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))
