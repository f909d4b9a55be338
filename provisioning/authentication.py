"""Token authentication for the REST API: ``Authorization: Bearer hc_…`` (or ``Token hc_…``).

A valid token acts with the lesser of its scope and its owner's role (:func:`provisioning.permissions.limit_to_scope`).
An unknown, revoked or expired token is refused with a 401 saying which, and counted against the client address
like a failed login (:mod:`provisioning.services.logins`), audited; once the address is locked out, the 401 says so
and carries ``Retry-After``. Guessing is hopeless anyway (a key is 256 random bits); the count makes an attempt
visible and audited. A valid token is still accepted from a locked address: a correct key proves itself, and
automation behind a shared address must not be locked out by someone else's guesses. The API has no password
authentication at all (sessions come from the login page), so it cannot be used to guess passwords either.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from provisioning.choices import Via
from provisioning.models import ApiToken
from provisioning.models.tokens import digest
from provisioning.permissions import limit_to_scope
from provisioning.services import logins


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give exactly one token after 'Bearer'.")
        raw = header[1].decode(errors="replace")
        token = ApiToken.objects.select_related("user").filter(key_digest=digest(raw)).first()
        refusal = _refusal(token)
        if refusal:
            self._count_failure(request, raw)
            raise exceptions.AuthenticationFailed(refusal)
        assert token is not None
        token.note_use()
        limit_to_scope(token.user, token.scope)
        return token.user, token

    def _count_failure(self, request: Any, raw: str) -> None:
        address, door = logins.client_address(request), f"token {raw[:10]}"
        lock = logins.lockout(None, address)
        if lock is not None:
            logins.record_refusal(None, address, lock, via=Via.API, door=door)
        else:
            lock = logins.record_failure(None, address, via=Via.API, door=door)
        if lock is not None:
            raise TokensLockedOut(lock)

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="harbor-console"'


class TokensLockedOut(exceptions.AuthenticationFailed):
    """A 401 (the answer to bad credentials stays the same) saying the address is locked out, with Retry-After."""

    def __init__(self, lock: logins.Lockout) -> None:
        self.wait = max(1, int((lock.until - timezone.now()).total_seconds()))
        super().__init__(
            f"Too many refused tokens from your address: unknown tokens are refused for {self.wait} more seconds "
            "and every attempt is audited. Wait, or ask an administrator to unlock the address."
        )


def _refusal(token: ApiToken | None) -> str:
    """Why ``token`` may not be used, as a sentence, or ''."""
    if token is None or token.revoked_at is not None:
        return "The token is unknown or revoked: create a new one on your account page."
    if token.expired:
        return f"The token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC: create a new one on your account page."
    if not token.user.is_active:
        return "The token's owner is no longer active."
    return ""
