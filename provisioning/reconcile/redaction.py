"""Secret values never leave the console: manifests kept or shown have every Secret value replaced."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from provisioning.rendering import REDACTED


def redact(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``manifest`` in which every value of a Secret's ``data`` and ``stringData`` is ``REDACTED``."""
    result = copy.deepcopy(dict(manifest))
    if result.get("kind") == "Secret":
        for field in ("data", "stringData"):
            if isinstance(result.get(field), dict):
                result[field] = dict.fromkeys(result[field], REDACTED)
    return result
