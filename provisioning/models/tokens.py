"""API tokens for automation: shown once at creation, stored only as a digest, revocable by their owner.

Each token has a scope (``read-only``, ``operator`` or ``admin``, never above the owner's role: see
:func:`provisioning.permissions.limit_to_scope`) and an expiry chosen at creation within ``API_TOKEN_MAX_DAYS``.
Its last use is recorded at most once a minute, so a busy token does not cost a write per request.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from provisioning.permissions import TOKEN_SCOPES

TOKEN_PREFIX = "hc_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class TokenScope(models.TextChoices):
    READ_ONLY = "read-only", "Read-only"
    OPERATOR = "operator", "Operator"
    ADMIN = "admin", "Admin"


assert set(TokenScope.values) == set(TOKEN_SCOPES)
TOKEN_STATES = ("active", "expired", "revoked")


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'order pipeline'.")
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise the token.")
    key_digest = models.CharField(max_length=64, unique=True)
    scope = models.CharField(
        max_length=16,
        choices=TokenScope.choices,
        help_text="What the token may do, never more than its owner's role at the time of use.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(help_text="After this the token is refused.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(
        cls, user: Any, name: str, *, scope: str = TokenScope.ADMIN, days: int | None = None
    ) -> tuple[ApiToken, str]:
        """Create a token; returns it with the raw key, which is never stored nor shown again.

        ``days`` defaults to ``API_TOKEN_DEFAULT_DAYS``; the scope is checked against the owner's role by the
        callers (:func:`provisioning.services.tokens.create_token`) and capped again at every use.
        """
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        lifetime = timedelta(days=days or settings.API_TOKEN_DEFAULT_DAYS)
        token = cls.objects.create(
            user=user,
            name=name,
            prefix=raw[:10],
            key_digest=digest(raw),
            scope=scope,
            expires_at=timezone.now() + lifetime,
        )
        return token, raw

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        return TOKEN_STATES[2] if self.revoked_at else TOKEN_STATES[1] if self.expired else TOKEN_STATES[0]

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    def note_use(self, now: datetime | None = None) -> None:
        """Record a use, writing at most once per ``LAST_USED_RESOLUTION``."""
        now = now or timezone.now()
        if self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
