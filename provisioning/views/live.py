"""Live regions: the parts of a page that refresh themselves, by htmx polling (the console's one refresh mechanism).

A live region is an element carrying ``{% live_region %}`` (see :mod:`provisioning.templatetags.console`): it
polls its own URL every ``LIVE_REFRESH_SECONDS`` and sends the digest of the content it shows. A view passes its
answer through :func:`live_response`, which stamps the digest into the content and answers a poll with
204 No Content (htmx then swaps nothing) when the content has not changed, so an unchanged region keeps its
focus, open details and scroll position, and a screen reader hears nothing. ``static/js/console.js`` pauses the
polling while the tab is hidden and refreshes every region when it comes back.
"""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse

DIGEST_MARK = "live-digest-pending"
"""What templates print where the digest goes; replaced in the response by :func:`live_response`."""
DIGEST_HEADER = "X-Live-Digest"


def is_poll(request: HttpRequest) -> bool:
    """A live region asking for itself: htmx names it both as the trigger and as the target."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.trigger is not None and htmx.trigger == htmx.target  # type: ignore[union-attr]


def live_response(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Stamp the content's digest into the live regions of ``response``; 204 to a poll when it is unchanged."""
    if response.status_code != 200 or response.streaming:
        return response
    content = response.content
    digest = hashlib.sha256(content).hexdigest()[:20]
    if is_poll(request) and request.headers.get(DIGEST_HEADER) == digest:
        return HttpResponse(status=204)
    response.content = content.replace(DIGEST_MARK.encode(), digest.encode())
    return response
