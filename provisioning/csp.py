"""The Content-Security-Policy of every HTML page: scripts, styles, fonts and images only from the console itself.

No inline script and no inline style anywhere: templates load ``static/js/console.js`` and stylesheets, htmx is
configured by a ``<meta name="htmx-config">`` (no eval, no indicator style injected), and the API docs are
Swagger UI served in two requests (page, then script). ``data:`` images are allowed (Swagger UI's icons).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class ContentSecurityPolicyMiddleware:
    """Sets :data:`POLICY` on every HTML response that has no policy of its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") and HEADER not in response:
            response[HEADER] = POLICY
        return response
