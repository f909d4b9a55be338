"""Who may open a page or take an action: every console view goes through :func:`requires`.

The check is :func:`provisioning.permissions.require`, the same helper the API and monitoring use; a refusal renders
the 403 page with the sentence saying which role the action needs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from provisioning.permissions import require

View = TypeVar("View", bound=Callable[..., HttpResponse])


def forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    template = (
        "provisioning/includes/forbidden.html"
        if getattr(request, "htmx", False)
        else "provisioning/forbidden.html"
    )
    return render(request, template, {"reason": reason}, status=403)


def requires(action: str) -> Callable[[View], View]:
    """Let the view run only for users whose role allows ``action``; answer 403 with the reason otherwise."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                require(request.user, action)
                return view(request, *args, **kwargs)
            except PermissionDenied as exc:
                return forbidden(request, str(exc) or "Your role does not allow this.")

        return cast(View, wrapped)

    return decorator
