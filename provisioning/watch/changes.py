"""Which changes of an owned object call for a reconcile of its registry, and which are the console's own echo.

The watcher keeps a ``Memo`` of each object (never the object itself): its registry, the console's own field
manager entry, a digest of everything but status and bookkeeping, and its readiness as the reconciler reads it.
Comparing the memo before and after a change says what happened:

* the object is gone, or appeared without the console having applied it: reconcile;
* its content changed while the console's managedFields entry neither got a new time nor took fields: someone
  else wrote it (``kubectl edit``, another controller) — reconcile; the console's own apply stamps its entry, so
  its echo is left alone (two console writes of one object within a second look foreign: one spare reconcile);
* its readiness changed (a component broke or recovered): reconcile, so the registry's phase and components say so
  within seconds rather than at the next sweep.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from provisioning.reconcile.readiness import WORKLOAD_KINDS, certificate_state, workload_state

_BOOKKEEPING = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid", "selfLink")
CONTROLLER_ANNOTATIONS = ("deployment.kubernetes.io/",)
"""Annotations the cluster's controllers keep on the console's objects (a Deployment's revision): not a change."""


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Memo:
    """What the watcher remembers of one owned object."""

    registry_id: int
    console_time: str
    """When the console's Apply entry in managedFields last changed ('' when the console never applied it)."""
    console_fields: int
    """How many fields that entry owns: another writer taking a field lowers it, the console taking it back
    raises it."""
    content: str
    readiness: str

    def written_by_console_since(self, before: Memo) -> bool:
        return self.console_time != before.console_time or self.console_fields > before.console_fields


def _size(fields: Any) -> int:
    if not isinstance(fields, Mapping):
        return 0
    return sum(1 + _size(value) for value in fields.values())


def memo_of(obj: Mapping[str, Any], registry_id: int, field_manager: str) -> Memo:
    metadata = obj.get("metadata") or {}
    entry = next(
        (
            e
            for e in metadata.get("managedFields") or []
            if e.get("manager") == field_manager
            and e.get("operation") == "Apply"
            and not e.get("subresource")
        ),
        None,
    )
    content = {k: v for k, v in obj.items() if k != "status"}
    content["metadata"] = {k: v for k, v in metadata.items() if k not in _BOOKKEEPING}
    annotations = metadata.get("annotations") or {}
    content["metadata"]["annotations"] = {
        k: v for k, v in annotations.items() if not k.startswith(CONTROLLER_ANNOTATIONS)
    }
    return Memo(
        registry_id,
        str(entry.get("time") or "-") if entry else "",
        _size(entry.get("fieldsV1")) if entry else 0,
        _digest(content),
        readiness_of(obj),
    )


def readiness_of(obj: Mapping[str, Any]) -> str:
    """What the reconciler reads as the object's readiness ('' for kinds without one)."""
    kind = obj.get("kind")
    if kind in WORKLOAD_KINDS:
        return repr(workload_state(obj))
    if kind == "Certificate":
        return repr(certificate_state(obj))
    return ""


def why_reconcile(before: Memo | None, after: Memo | None) -> str:
    """Why a change from ``before`` to ``after`` (None: absent) needs a reconcile; '' when it does not."""
    if after is None:
        return "deleted" if before is not None else ""
    if before is None:
        return "" if after.console_time else "created by another writer"
    if after.content != before.content and not after.written_by_console_since(before):
        return "changed by another writer"
    if after.readiness != before.readiness:
        return "readiness changed"
    return ""
