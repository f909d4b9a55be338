"""``Idempotency-Key`` on creating POSTs: the same key (per user) returns the first result, never a duplicate.

The key row is inserted in the same transaction as the object it guards. PostgreSQL makes a concurrent insert of
the same (user, key) wait for that transaction: if it commits, the second request replays the stored response; if
it rolls back (the request failed), the second request runs afresh. Only successful responses are stored, so a
client may fix a refused request and retry with the same key. A key reused with a different body or endpoint is
refused with 422. Keys are kept for ``KEY_TTL``; after that the key may be used again. A replay answers the first
response's body, status, ``ETag`` and ``Location`` (with ``Idempotent-Replayed: true``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from provisioning.api.errors import IdempotencyKeyReused
from provisioning.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
REPLAYED_HEADERS = ("ETag", "Location")
KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200
KEY_PATTERN = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")


def request_digest(request: Request) -> str:
    """A digest of what the request asks for: method, path and the parsed body (key order does not matter)."""
    body = json.dumps(request.data, sort_keys=True, cls=JSONEncoder, separators=(",", ":"))
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


def _key_of(request: Request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.match(key):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    f"Give 1 to {MAX_KEY_LENGTH} printable ASCII characters, e.g. a UUID you generate per operation."
                ]
            }
        )
    return key


def _jsonable(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


def _replay(stored: IdempotencyKey, digest: str, request: Request) -> Response:
    if stored.request_digest != digest:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key {stored.key!r} was first used for a different request "
            f"({stored.method} {stored.path}, another body): use a new key for a new operation."
        )
    headers = {REPLAYED_HEADER: "true", **(stored.response_headers or {})}
    if isinstance(stored.response_body, dict) and isinstance(stored.response_body.get("url"), str):
        headers.setdefault("Location", str(stored.response_body["url"]))
    return Response(stored.response_body, status=stored.status_code, headers=headers)


class _Failed(Exception):
    """Carries a non-2xx response out of the transaction so that the key row is rolled back with it."""

    def __init__(self, response: Response) -> None:
        self.response = response


def idempotent(request: Request, handler: Callable[[], Response]) -> Response:
    """Run ``handler`` once per (user, Idempotency-Key); replay its stored response for a repeated key."""
    key = _key_of(request)
    user_id = request.user.pk
    if key is None or user_id is None:
        return handler()
    digest = request_digest(request)
    IdempotencyKey.objects.filter(user_id=user_id, key=key, created_at__lt=timezone.now() - KEY_TTL).delete()
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    row = IdempotencyKey.objects.create(
                        user_id=user_id,
                        key=key,
                        method=request.method or "POST",
                        path=request.path[:300],
                        request_digest=digest,
                        status_code=0,
                    )
            except IntegrityError:
                stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
                return _replay(stored, digest, request)
            response = handler()
            if not 200 <= response.status_code < 300:
                raise _Failed(response)
            row.status_code = response.status_code
            row.response_body = _jsonable(response.data)
            row.response_headers = {
                name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)
            }
            row.save(update_fields=["status_code", "response_body", "response_headers"])
            return response
    except _Failed as failed:
        return failed.response
