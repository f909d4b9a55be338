"""Liveness and readiness of the console itself (for Kubernetes probes and load balancers); no login needed."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@login_not_required
@never_cache
@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        return f"database: {exc.__class__.__name__}: {exc}"
    return None


def _check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        return f"redis: {exc.__class__.__name__}: {exc}"
    return None


@login_not_required
@never_cache
@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    started = time.monotonic()
    checks = {"database": _check_database(), "redis": _check_redis()}
    failures = {name: error for name, error in checks.items() if error}
    body = {
        "status": "ready" if not failures else "not ready",
        "checks": {name: (error or "ok") for name, error in checks.items()}
        | ({} if settings.REDIS_URL else {"redis": "not configured"}),
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if not failures else 503)
