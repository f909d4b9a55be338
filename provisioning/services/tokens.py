"""Creating API tokens, the same for the account page and the API: a scope within the owner's role, a lifetime
within ``API_TOKEN_MAX_DAYS``, audited (the key itself never is)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from provisioning import audit
from provisioning.models import ApiToken
from provisioning.permissions import held_role, scopes_within


def create_token(
    user: Any, name: str, *, via: str, scope: str | None = None, days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for ``user``; returns it with its raw key. Raises ValidationError keyed by field.

    Without ``scope`` the token gets the owner's role; without ``days``, ``API_TOKEN_DEFAULT_DAYS``.
    """
    allowed = scopes_within(held_role(user))
    errors: dict[str, str] = {}
    if not allowed:
        errors["scope"] = (
            "Your account has no role, so it cannot create tokens: ask an administrator for one."
        )
    elif scope is None:
        scope = allowed[-1]
    elif scope not in allowed:
        errors["scope"] = (
            f"A token cannot do more than your role allows: choose one of {', '.join(allowed)}, not {scope!r}."
        )
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    if not 1 <= days <= settings.API_TOKEN_MAX_DAYS:
        errors["expires_in_days"] = (
            f"Choose a lifetime from 1 to {settings.API_TOKEN_MAX_DAYS} days (API_TOKEN_MAX_DAYS), not {days}."
        )
    if errors:
        raise ValidationError(errors)
    assert scope is not None
    with transaction.atomic():
        token, raw = ApiToken.issue(user, name, scope=scope, days=days)
        audit.record(
            user,
            via,
            "create",
            token,
            changes={
                "name": token.name,
                "prefix": token.prefix,
                "scope": token.scope,
                "expires_at": token.expires_at.isoformat(),
            },
        )
    return token, raw
