"""Token authentication for the REST API: ``Authorization: Bearer hc_…`` (or ``Token hc_…``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import authentication, exceptions

from provisioning.models import ApiToken
from provisioning.models.tokens import digest


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, ApiToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace").lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Give exactly one token after 'Bearer'.")
        raw = header[1].decode(errors="replace")
        token = ApiToken.objects.active().select_related("user").filter(key_digest=digest(raw)).first()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(
                "The token is unknown or revoked: create a new one on your account page."
            )
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="harbor-console"'
