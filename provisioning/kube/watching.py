"""Watch events as the gateway yields them: one typed value per line of a watch stream."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from provisioning.kube.errors import KubeApiError, KubeWatchExpired

EVENT_TYPES = frozenset({"ADDED", "MODIFIED", "DELETED", "BOOKMARK"})


@dataclass(frozen=True)
class WatchEvent:
    """One change: ``type`` is ADDED, MODIFIED, DELETED or BOOKMARK (whose ``object`` holds only metadata)."""

    type: str
    object: dict[str, Any]
    resource_version: str

    @property
    def bookmark(self) -> bool:
        return self.type == "BOOKMARK"


def decode_event(line: bytes, api_version: str, kind: str, what: str) -> WatchEvent | None:
    """The event on one line; an ERROR event raises (``KubeWatchExpired`` for 410 Gone), garbage is skipped."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
        return None
    obj: dict[str, Any] = event["object"]
    if event.get("type") == "ERROR":
        status = int(obj.get("code") or 500)
        error_class = KubeWatchExpired if status == 410 else KubeApiError
        raise error_class(
            status,
            str(obj.get("reason") or "Unknown"),
            str(obj.get("message") or "no message"),
            verb="watch",
            what=what,
            details=obj.get("details") if isinstance(obj.get("details"), dict) else None,
        )
    if event.get("type") not in EVENT_TYPES:
        return None
    if event["type"] != "BOOKMARK":
        obj.setdefault("apiVersion", api_version)
        obj.setdefault("kind", kind)
    version = str((obj.get("metadata") or {}).get("resourceVersion", ""))
    return WatchEvent(str(event["type"]), obj, version)
