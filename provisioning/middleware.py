"""Response headers every page and API answer of the console carries.

Everything the console renders is per user (pages, API answers, even refusals and the login form with its CSRF
token), so no browser cache, shared proxy or back button may keep a copy: ``Cache-Control: no-store, private``,
``Pragma: no-cache`` for HTTP/1.0 caches, and ``Vary: Cookie, Authorization``. Static files are served before this
layer (WhiteNoise) and stay cacheable.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control, patch_vary_headers


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        response.headers.setdefault("Pragma", "no-cache")
        patch_vary_headers(response, ("Cookie", "Authorization"))
        return response
