"""Login throttling: failures are counted per account name and per client address; past a limit within a window,
logging in is refused for that name or address until the lockout expires or an administrator unlocks it.

Counting by the name typed, whether or not such a user exists, keeps the answer the same for every name, so the
lockout never tells whether an account exists. The counters live in the database, shared by every web process.
Every failure, every refusal while locked and every unlock is audited. The API's token authentication counts its
failures against the client address too, so neither door can be used to guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from provisioning import audit
from provisioning.models import LoginThrottle

Scope = LoginThrottle.Scope


@dataclass(frozen=True)
class Lockout:
    until: datetime

    def message(self) -> str:
        minutes = max(1, round((self.until - timezone.now()).total_seconds() / 60))
        return (
            "Too many failed logins for this account name or from your address: logging in is paused for about "
            f"{minutes} minute{'s' if minutes != 1 else ''}. Wait, or ask an administrator to unlock it."
        )


def client_address(request: Any) -> str:
    """The client's address: the connection's, or the one the trusted proxies put in X-Forwarded-For."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    hops = settings.TRUSTED_PROXY_COUNT
    if not hops:
        return remote
    forwarded = [part.strip() for part in str(request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",")]
    forwarded = [part for part in forwarded if part]
    return forwarded[-hops] if len(forwarded) >= hops else remote


def _keys(username: str | None, address: str) -> list[tuple[str, str]]:
    keys = [(Scope.ADDRESS.value, address[:150])]
    if username is not None:
        keys.append((Scope.ACCOUNT.value, username.strip().lower()[:150]))
    return keys


def lockout(username: str | None, address: str) -> Lockout | None:
    """The lockout in force for this account name or address (the later one), or None."""
    matches = Q()
    for scope, key in _keys(username, address):
        matches |= Q(scope=scope, key=key)
    until = (
        LoginThrottle.objects.filter(matches, locked_until__gt=timezone.now())
        .aggregate(until=Max("locked_until"))
        .get("until")
    )
    return Lockout(until) if until else None


def record_failure(username: str | None, address: str, *, via: str, door: str = "password") -> Lockout | None:
    """Count one failed attempt against the name (when given) and the address; audit it; the lockout it starts."""
    now = timezone.now()
    window = timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limits = {
        Scope.ACCOUNT.value: settings.LOGIN_FAILURE_LIMIT,
        Scope.ADDRESS.value: settings.LOGIN_ADDRESS_FAILURE_LIMIT,
    }
    started: list[datetime] = []
    counts: dict[str, int] = {}
    with transaction.atomic():
        for scope, key in _keys(username, address):
            row, _ = LoginThrottle.objects.select_for_update().get_or_create(scope=scope, key=key)
            if now - row.window_started_at > window and not row.locked(now):
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            row.last_failure_at = now
            if row.failures >= limits[scope] and not row.locked(now):
                row.locked_until = now + timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
                started.append(row.locked_until)
            row.save()
            counts[scope] = row.failures
        audit.record(
            "anonymous",
            via,
            "login_failed",
            target_type="login",
            target_repr=username or "",
            changes={
                "address": address,
                "door": door,
                **{f"{scope}_failures": n for scope, n in counts.items()},
            },
        )
        if started:
            audit.record(
                "system",
                via,
                "login_locked",
                target_type="login",
                target_repr=username or address,
                changes={"address": address, "until": max(started).isoformat(), "door": door},
            )
    return Lockout(max(started)) if started else None


def record_refusal(
    username: str | None, address: str, lock: Lockout, *, via: str, door: str = "password"
) -> None:
    """Audit an attempt refused because of a lockout (its password was not even checked)."""
    audit.record(
        "anonymous",
        via,
        "login_refused_locked",
        target_type="login",
        target_repr=username or "",
        changes={"address": address, "until": lock.until.isoformat(), "door": door},
    )


def record_success(username: str) -> None:
    """A correct login clears the account's count (never the address's: a valid account must not reset it)."""
    LoginThrottle.objects.filter(scope=Scope.ACCOUNT, key=username.strip().lower()[:150]).exclude(
        locked_until__gt=timezone.now()
    ).delete()


def unlock(*, actor: Any, via: str, account: str | None = None, address: str | None = None) -> int:
    """Lift the lockout (and the count) of an account name and/or an address; audited. How many were lifted."""
    lifted = 0
    for scope, key in ((Scope.ACCOUNT, (account or "").strip().lower()), (Scope.ADDRESS, address or "")):
        if not key:
            continue
        deleted, _ = LoginThrottle.objects.filter(scope=scope, key=key).delete()
        if deleted:
            lifted += deleted
            audit.record(
                actor,
                via,
                "login_unlocked",
                target_type="login",
                target_repr=key,
                changes={"scope": scope.value},
            )
    return lifted
