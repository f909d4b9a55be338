"""Per-token rate limits: past ``API_RATE_LIMIT`` requests (e.g. ``1200/min``), a token is answered 429 with
``Retry-After`` until its window has room again.

Counts live in Django's cache (Redis when ``REDIS_URL`` is set, so every web process shares them) and are kept per
token (a console session counts per user). The rate is read at each request, so the setting can be changed in
tests; an empty ``API_RATE_LIMIT`` turns the limit off.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        return settings.API_RATE_LIMIT or None

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        token = request.auth
        if token is not None and getattr(token, "key_digest", None):
            ident = f"token:{token.key_digest[:32]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{settings.INSTALLATION_ID}:{request.user.pk}"
        else:
            return None  # refused as unauthenticated anyway
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait(self) -> float | None:
        """Whole seconds (at least 1), so that ``Retry-After`` is always a valid delay."""
        remaining = super().wait()
        return None if remaining is None else max(1, int(remaining + 0.999))
