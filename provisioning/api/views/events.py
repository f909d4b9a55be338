"""``GET /api/v1/events/stream``: registry events as server-sent events (``text/event-stream``).

Each message is a CloudEvent (the same JSON the webhooks receive) with the stream's id; reconnect with
``Last-Event-ID`` to resume. A comment line every ``EVENT_STREAM_HEARTBEAT_SECONDS`` keeps proxies from closing
an idle connection; the server ends the stream after ``EVENT_STREAM_LIFETIME_SECONDS`` and the client
reconnects. The database connection is closed before waiting: a stream holds a thread (or greenlet), not a
database connection. ``?registry=<id>`` (repeatable) limits the stream to those registries.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from provisioning.api.permissions import RolePermission
from provisioning.api.schema import ApiAutoSchema, ErrorSerializer
from provisioning.events import stream


class StreamUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "stream_unavailable"
    default_detail = "The event stream needs Redis (REDIS_URL); this console runs without it. Use webhooks."


class EventStreamRenderer(BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return b"" if data is None else JSONRenderer().render(data)


class EventStreamView(APIView):
    schema = ApiAutoSchema()
    error_codes = {"stream": (400,)}
    permission_classes = [RolePermission]
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    action_permissions = {"stream": "stream_events"}
    action = "stream"

    @extend_schema(
        tags=["events"],
        parameters=[
            OpenApiParameter(
                "Last-Event-ID", str, OpenApiParameter.HEADER, description="Resume after this id."
            ),
            OpenApiParameter("registry", int, many=True, description="Only these registries' events."),
        ],
        responses={
            (200, "text/event-stream"): OpenApiTypes.STR,
            503: OpenApiResponse(ErrorSerializer, description="The console runs without Redis: no stream."),
        },
    )
    def get(self, request: Request) -> Any:
        """Registry events as they happen (viewer and above)."""
        if not stream.available():
            raise StreamUnavailable()
        last_id = request.headers.get("Last-Event-ID") or None
        if last_id is not None and not stream.valid_id(last_id):
            raise exceptions.ValidationError(
                {"Last-Event-ID": ["Give the id of a message this stream sent (e.g. 1733240000000-0)."]}
            )
        registries = request.query_params.getlist("registry")
        if any(not value.isdigit() for value in registries):
            raise exceptions.ValidationError({"registry": ["Give registry ids (whole numbers)."]})
        messages = stream.messages(
            last_id,
            heartbeat=settings.EVENT_STREAM_HEARTBEAT_SECONDS,
            lifetime=settings.EVENT_STREAM_LIFETIME_SECONDS,
            subjects=set(registries) or None,
        )
        if not connection.in_atomic_block:
            connection.close()  # authentication is done: hold no database connection while waiting
        response = StreamingHttpResponse(messages, content_type="text/event-stream")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: pass each message on at once
        return response
