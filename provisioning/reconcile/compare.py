"""Does the live object already hold what we want? Decides between applying and writing nothing.

Two checks, both needed: the desired manifest must be contained in the live object (catches edits and deletions
made behind the console's back), and the live object's spec-hash annotation must be the desired manifest's hash
(catches fields the console stopped setting, which containment cannot see). Containment is normalised for what an
API server adds or rewrites: defaulted fields, zero values it leaves out, and quantities (``0.5`` equals
``500m``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kubernetes.utils import parse_quantity

SPEC_HASH_ANNOTATION = "harbor-console.io/spec-hash"
_QUANTITY_PARENTS = frozenset(
    {"limits", "requests", "hard", "default", "defaultRequest", "max", "min", "capacity"}
)
_MAX_REPORTED = 5


def spec_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 of the manifest's canonical JSON (the spec-hash annotation itself left out)."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def with_spec_hash(manifest: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """``manifest`` annotated with its hash (a new top level and metadata; the rest is shared), and the hash."""
    digest = spec_hash(manifest)
    metadata = dict(manifest["metadata"])
    metadata["annotations"] = {**metadata.get("annotations", {}), SPEC_HASH_ANNOTATION: digest}
    return {**manifest, "metadata": metadata}, digest


def live_hash(live: Mapping[str, Any]) -> str:
    return str(((live.get("metadata") or {}).get("annotations") or {}).get(SPEC_HASH_ANNOTATION, ""))


def differences(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Paths where ``live`` does not hold what ``desired`` says (at most a few); empty when it does."""
    found: list[str] = []
    wanted = _comparable(desired)
    _contained(wanted, _comparable(live), (), found)
    return found


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Identity, labels, annotations and payload; server-owned metadata and status left out."""
    metadata = obj.get("metadata") or {}
    result: dict[str, Any] = {
        key: value for key, value in obj.items() if key not in ("metadata", "status", "stringData")
    }
    result["metadata"] = {key: metadata[key] for key in ("labels", "annotations") if key in metadata}
    if obj.get("kind") == "Secret" and isinstance(obj.get("stringData"), Mapping):
        data = dict(result.get("data") or {})
        for key, value in obj["stringData"].items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        result["data"] = data
    return result


def _empty(value: Any) -> bool:
    """A zero value: the API server leaves such fields out of what it serves (``omitempty``)."""
    return value is None or value is False or (not isinstance(value, bool) and value in (0, "", {}, []))


def _contained(wanted: Any, live: Any, path: tuple[str, ...], found: list[str]) -> None:
    if len(found) >= _MAX_REPORTED or wanted == live:
        return
    if isinstance(wanted, Mapping):
        if not isinstance(live, Mapping):
            found.append(_dotted(path))
            return
        for key, value in wanted.items():
            if key not in live:
                if not _empty(value):
                    found.append(_dotted((*path, key)))
                continue
            _contained(value, live[key], (*path, key), found)
        return
    if isinstance(wanted, list):
        if not isinstance(live, list) or len(live) != len(wanted):
            found.append(_dotted(path))
            return
        for index, (item, live_item) in enumerate(zip(wanted, live, strict=True)):
            _contained(item, live_item, (*path, str(index)), found)
        return
    if wanted == live or _same_quantity(wanted, live, path):
        return
    found.append(_dotted(path))


def _same_quantity(wanted: Any, live: Any, path: tuple[str, ...]) -> bool:
    if len(path) < 2 or path[-2] not in _QUANTITY_PARENTS:
        return False
    if not isinstance(wanted, str | int | float) or not isinstance(live, str | int | float):
        return False
    try:
        return Decimal(parse_quantity(wanted)) == Decimal(parse_quantity(live))
    except (ValueError, ArithmeticError):
        return False


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(path) or "(object)"
