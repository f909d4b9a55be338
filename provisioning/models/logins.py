"""Failed logins counted per account name and per client address, in the database so every web process shares them."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.utils import timezone


class LoginThrottle(models.Model):
    """Failures of one account name (whether or not such a user exists) or one client address within a window,
    and until when logging in is refused for it. Deleting the row unlocks it."""

    class Scope(models.TextChoices):
        ACCOUNT = "account", "Account name"
        ADDRESS = "address", "Client address"

    scope = models.CharField(max_length=8, choices=Scope.choices)
    key = models.CharField(max_length=150, help_text="The account name in lower case, or the client address.")
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField(default=timezone.now)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="login_throttle_scope_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}: {self.failures} failures"

    def locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())
