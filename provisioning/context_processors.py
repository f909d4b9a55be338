"""Template context shared by every page: the user's role and what it may do, how live regions refresh."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.functional import SimpleLazyObject

from provisioning.models import installation_id
from provisioning.permissions import allowed_actions, role_of


def console(request: Any) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "user_role": role_of(user).label,
        "user_can": allowed_actions(user),
        "installation_id": SimpleLazyObject(installation_id),
        "live_refresh_seconds": settings.LIVE_REFRESH_SECONDS,
    }
