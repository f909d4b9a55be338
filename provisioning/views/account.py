"""The account page: the user's API tokens (scope, expiry, last use), created (the key shown once) and revoked,
both audited."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from provisioning import audit
from provisioning.choices import Via
from provisioning.filtersets import ApiTokenFilterSet
from provisioning.forms import TokenForm
from provisioning.models import ApiToken
from provisioning.services.tokens import create_token
from provisioning.tables import TokenTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list


def _page(request: HttpRequest, form: TokenForm, new_key: str = "", status: int = 200) -> HttpResponse:
    """The account page, also as the answer to a token's creation (at the form's address, which only takes a
    POST: the token list then refreshes from the account page's address)."""
    response = render_list(
        request,
        "provisioning/account/page.html",
        queryset=ApiToken.objects.filter(user=request.user),  # type: ignore[misc]
        table_class=TokenTable,
        filterset_class=ApiTokenFilterSet,
        filters=("active",),
        context={
            "form": form,
            "new_key": new_key,
            **({"results_url": reverse("provisioning:account")} if request.method == "POST" else {}),
        },
    )
    response.status_code = status
    return response


@requires("view")
@never_cache
def account(request: HttpRequest) -> HttpResponse:
    return _page(request, TokenForm(user=request.user))


@requires("view")
@never_cache
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Issue a token and show its key in this response only: it is stored as a digest and never shown again."""
    form = TokenForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        _, raw = create_token(
            request.user,
            data["name"],
            via=Via.UI,
            scope=data.get("scope") or None,
            days=data.get("expires_in_days"),
        )
    except ValidationError as exc:
        form.add_service_error(exc)
        return _page(request, form, status=400)
    return _page(request, TokenForm(user=request.user), new_key=raw)


@requires("view")
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        token.revoke()
        audit.record(
            request.user, Via.UI, "revoke", token, changes={"name": token.name, "prefix": token.prefix}
        )
        messages.success(request, f"Token {token.name} revoked: it no longer works.")
    else:
        messages.info(request, f"Token {token.name} was already revoked.")
    return redirect("provisioning:account")
