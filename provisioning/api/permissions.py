"""The DRF permission class: the same role rules as the UI, through :mod:`provisioning.permissions`."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from provisioning.permissions import ACTIONS, can

METHOD_ACTIONS = {"POST": "create", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


def required_action(request: Any, view: Any) -> str:
    """What the request asks to do: the view's per-action map first, then the HTTP method."""
    mapping: dict[str, str] = getattr(view, "action_permissions", {})
    drf_action = getattr(view, "action", None)
    if drf_action and drf_action in mapping:
        return mapping[drf_action]
    if request.method in permissions.SAFE_METHODS:
        return "view"
    return getattr(view, "write_action", None) or METHOD_ACTIONS.get(request.method, "change")


class RolePermission(permissions.BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        action = required_action(request, view)
        allowed = can(request.user, action)
        if not allowed:
            self.message = f"This needs the {ACTIONS[action].label} role."
        return allowed
