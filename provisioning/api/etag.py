"""Optimistic concurrency on registries: an ETag on reads, ``If-Match`` honoured on every write, and conditional
reads (``If-None-Match`` answered 304 when the registry did not change).

The ETag names one version of a registry as people changed it: its id, its spec generation (bumped by every
change of spec or desired state) and the time of its last save. ``If-Match`` is optional; when given and no tag
matches, the write is refused with 412 and nothing changes. Weak tags (``W/"…"``) are compared by their value,
because proxies that compress responses weaken strong tags.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from provisioning.api.errors import PreconditionFailed
from provisioning.models import Registry

_TAG = re.compile(r'\s*(?:W/)?"([^"]*)"\s*(?:,|$)')


def registry_etag(registry: Registry) -> str:
    version = f"{registry.pk}:{registry.generation}:{registry.updated_at.isoformat()}"
    return '"' + hashlib.sha256(version.encode()).hexdigest()[:32] + '"'


def parse_if_match(header: str) -> set[str] | None:
    """The tag values an ``If-Match`` header lists; None for ``*`` (any current version)."""
    if header.strip() == "*":
        return None
    values: set[str] = set()
    position = 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None:
            raise PreconditionFailed(
                'If-Match must be "*" or a list of quoted ETags, e.g. If-Match: "3f2a…".'
            )
        values.add(match.group(1))
        position = match.end()
    return values


def check_if_match(request: Any, registry: Registry) -> None:
    """Refuse with 412 when the request's ``If-Match`` does not name the registry's current ETag."""
    header = request.headers.get("If-Match")
    if header is None:
        return
    wanted = parse_if_match(header)
    if wanted is None:
        return
    if registry_etag(registry).strip('"') not in wanted:
        raise PreconditionFailed(
            f"{registry} changed since you read it (its ETag is now {registry_etag(registry)}): "
            "read it again, check your change still makes sense, and retry with the new ETag."
        )


def not_modified(request: Any, etag: str) -> bool:
    """True when the request's ``If-None-Match`` names ``etag`` (or is ``*``): answer 304 with no body."""
    header = request.headers.get("If-None-Match")
    if header is None:
        return False
    try:
        wanted = parse_if_match(header)
    except PreconditionFailed:
        return False  # a malformed tag matches nothing: the full answer follows
    return wanted is None or etag.strip('"') in wanted
