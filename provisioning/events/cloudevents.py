"""The CloudEvents 1.0 envelope (JSON, structured mode) of a stored event."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings

from provisioning.models import Event, installation_id

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def source() -> str:
    """The console's URL (``CONSOLE_URL``, else a URN) and its installation id: unique per console."""
    base = (getattr(settings, "CONSOLE_URL", "") or "urn:harbor-console").rstrip("/")
    return f"{base}/installations/{installation_id()}"


def envelope(event: Event) -> dict[str, Any]:
    return {
        "specversion": SPEC_VERSION,
        "id": f"{installation_id()}-{event.pk}",
        "source": source(),
        "type": event.type,
        "subject": str(event.registry_id),
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "registrysequence": event.sequence,
        "data": event.data,
    }


def body(event: Event) -> bytes:
    """The exact bytes sent (and signed): compact JSON, keys sorted."""
    return json.dumps(envelope(event), sort_keys=True, separators=(",", ":")).encode()
