"""``/metrics``: the console's own metrics in the Prometheus text format (OpenMetrics when asked for)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from monitoring.metrics import allowed, registry


@login_not_required
@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    ok, status = allowed(request)
    if not ok:
        message = (
            "Give the metrics token (Authorization: Bearer <METRICS_TOKEN>) or log in."
            if status == 401
            else "Your role does not allow reading metrics."
        )
        response = HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="harbor-console-metrics"'
        return response
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(registry), content_type=content_type)
