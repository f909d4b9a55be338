"""Roles and the one permission helper used by the web UI, the REST API and monitoring alike.

Roles are the groups ``viewer``, ``operator`` and ``admin`` (superusers are admins). Each action names the least
role that may take it; the UI offers an action only when :func:`can` says so and the server checks it again.
A request made with an API token acts with the lesser of the token's scope and the owner's role *now*
(:func:`limit_to_scope`), so a user demoted after creating a token gets no more than their new role.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from django.core.exceptions import PermissionDenied


class Role(IntEnum):
    NONE = 0
    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


ROLE_GROUPS = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}
TOKEN_SCOPES = {"read-only": Role.VIEWER, "operator": Role.OPERATOR, "admin": Role.ADMIN}

ACTIONS: dict[str, Role] = {
    "view": Role.VIEWER,
    "create": Role.OPERATOR,
    "change": Role.OPERATOR,
    "reconcile": Role.OPERATOR,
    "suspend": Role.OPERATOR,
    "resume": Role.OPERATOR,
    "upgrade": Role.OPERATOR,
    "rotate": Role.OPERATOR,
    "delete": Role.OPERATOR,
    "purge": Role.ADMIN,
    "manage_plans": Role.ADMIN,
    "manage_clusters": Role.ADMIN,
    "manage_webhooks": Role.ADMIN,
    "stream_events": Role.VIEWER,
    "bulk_operate": Role.OPERATOR,
    "view_secrets_metadata": Role.ADMIN,
}


def role_of(user: Any) -> Role:
    """The highest role the user holds; cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Role.NONE
    cached = getattr(user, "_harbor_console_role", None)
    if cached is None:
        cached = int(held_role(user))
        user._harbor_console_role = cached
    scope = getattr(user, "_harbor_console_scope", None)
    return Role(min(cached, scope)) if scope is not None else Role(cached)


def held_role(user: Any) -> Role:
    """The role the user's groups give, whatever the token of the request allows."""
    if user.is_superuser:
        return Role.ADMIN
    names = user.groups.values_list("name", flat=True)
    return max((ROLE_GROUPS[name] for name in names if name in ROLE_GROUPS), default=Role.NONE)


def limit_to_scope(user: Any, scope: str) -> None:
    """Let this request's ``user`` act with no more than the token ``scope`` allows (and never above its role)."""
    user._harbor_console_scope = int(TOKEN_SCOPES[scope])


def scopes_within(role: Role) -> list[str]:
    """The token scopes a user of ``role`` may create, least first."""
    return [scope for scope, needed in TOKEN_SCOPES.items() if needed <= role]


def can(user: Any, action: str) -> bool:
    if action not in ACTIONS:
        raise KeyError(f"Unknown action {action!r}")
    return role_of(user) >= ACTIONS[action]


def require(user: Any, action: str) -> None:
    """Raise PermissionDenied with a sentence saying which role the action needs."""
    if not can(user, action):
        needed = ACTIONS[action].label
        raise PermissionDenied(f"This needs the {needed} role; you have {role_of(user).label or 'none'}.")


def allowed_actions(user: Any) -> set[str]:
    role = role_of(user)
    return {action for action, needed in ACTIONS.items() if role >= needed}
