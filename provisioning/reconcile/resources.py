"""Keeping ``ManagedResource`` rows: one per object the console owns for a registry, with its last state.

Fields another field manager owns and the console's apply cannot take back (``compare.ForeignChange``) are kept on
the row once, with the time they were first seen, and named in its message ("changed by kubectl-edit at ..."),
so the registry page shows them without a write on every pass.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from provisioning.choices import ResourceState
from provisioning.kube import object_key
from provisioning.kube.resources import ObjectKey
from provisioning.models import ManagedResource, Registry
from provisioning.reconcile.compare import ForeignChange, differences, live_hash
from provisioning.reconcile.readiness import WORKLOAD_KINDS, certificate_state, workload_state
from provisioning.reconcile.redaction import redact
from provisioning.rendering import object_apply_order

_FIELDS = (
    "state",
    "message",
    "resource_version",
    "last_seen_at",
    "applied_at",
    "apply_order",
    "spec_hash",
    "manifest",
    "foreign_changes",
)


def _state(
    desired: Mapping[str, Any], live: Mapping[str, Any] | None, applied: bool, manager: str
) -> tuple[str, str]:
    """The state of one desired object, and a short message."""
    if live is None:
        return ResourceState.MISSING, "Not on the cluster."
    if not applied and differences(desired, live, manager):
        return ResourceState.DRIFTED, "Differs from the desired manifest; the next successful run applies it."
    kind = desired["kind"]
    if kind in WORKLOAD_KINDS:
        workload = workload_state(live)
        if workload.rolled_out:
            return ResourceState.READY, "Available."
        return ResourceState.NOT_READY, workload.describe()
    if kind == "Certificate":
        certificate = certificate_state(live)
        if certificate.ready:
            return ResourceState.READY, "Issued."
        return ResourceState.NOT_READY, certificate.message or "Not issued yet."
    return ResourceState.APPLIED, ""


def resources_digest(
    desired: Sequence[Mapping[str, Any]], live: Mapping[ObjectKey, Mapping[str, Any]], manager: str
) -> str:
    """What a pass compares, as one hash: each desired object's spec hash, each live object's ``resourceVersion``
    (any change to it, its status included, moves it) and the console's field manager. ``compare`` and the resource
    rows are functions of these alone, so a pass whose digest equals that of a pass which compared everything and
    wrote nothing (``Registry.resources_digest``) has nothing to compare, apply or record."""
    rendered = [[*object_key(obj), live_hash(obj)] for obj in desired]
    versions = sorted(
        ["|".join(key), str((obj.get("metadata") or {}).get("resourceVersion", ""))]
        for key, obj in live.items()
    )
    payload = json.dumps([manager, rendered, versions], separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def record_resources(
    registry: Registry,
    desired: Sequence[Mapping[str, Any]] | None,
    live: Mapping[ObjectKey, Mapping[str, Any]],
    applied: bool,
    now: datetime,
    written: set[ObjectKey] | frozenset[ObjectKey] = frozenset(),
    foreign: Mapping[ObjectKey, Sequence[ForeignChange]] | None = None,
    manager: str = "",
) -> None:
    """Make the registry's rows match the desired objects (or, when nothing rendered, what is live).

    ``foreign`` holds, per object, the changes of other field managers the run found; ``manager`` is the
    console's field manager (differences are read as its own, see ``compare``).
    """
    existing = {
        (row.api_version, row.kind, row.namespace, row.name): row
        for row in ManagedResource.objects.filter(registry=registry).defer("manifest")
    }
    objects = list(desired) if desired is not None else [dict(obj) for obj in live.values()]
    wanted: set[ObjectKey] = set()
    new_rows: list[ManagedResource] = []
    changed: list[ManagedResource] = []
    for obj in objects:
        key = object_key(obj)
        wanted.add(key)
        current = live.get(key)
        state, message = _state(obj, current, applied or desired is None, manager)
        previous = existing.get(key)
        if applied or key in (foreign or {}):
            changes = _foreign_records((foreign or {}).get(key, ()), previous, now)
        else:  # the run stopped before comparing it: what was found before still stands
            changes = list(previous.foreign_changes) if previous is not None else []
        if changes:
            message = " ".join(part for part in (message, _foreign_sentence(changes)) if part)
        digest = live_hash(obj)
        version = str(((current or {}).get("metadata") or {}).get("resourceVersion", ""))
        row = existing.get(key)
        if row is None:
            row = ManagedResource(
                registry=registry, api_version=key[0], kind=key[1], namespace=key[2], name=key[3]
            )
        seen_before = row.seen_at(registry.stack_read_at)
        before = (row.state, row.message, row.resource_version, row.spec_hash, row.foreign_changes)
        row.state, row.message, row.resource_version = state, message[:500], version
        row.foreign_changes = changes
        if key in written:
            row.applied_at = now
        # the manifest last applied: a run that stopped before applying this object leaves it as it was
        fresh = applied or key in written or row.pk is None
        if desired is not None and fresh and (row.pk is None or row.spec_hash != digest):
            row.apply_order = _order(obj)
            row.spec_hash = digest
            row.manifest = redact(obj)
        if row.pk is None:
            row.last_seen_at = now if current is not None else None
            new_rows.append(row)
        elif (
            before != (row.state, row.message, row.resource_version, row.spec_hash, row.foreign_changes)
            or key in written
        ):
            # found now, or gone since the stack's last read (the row is saved anyway: record the moment)
            row.last_seen_at = now if current is not None else seen_before
            changed.append(row)
        # unchanged: seen at this run's read of the stack (Registry.stack_read_at), no write per object
    if new_rows:
        ManagedResource.objects.bulk_create(new_rows)
    for row in changed:
        row.save(update_fields=_FIELDS)
    gone = [row.pk for key, row in existing.items() if key not in wanted and key not in live]
    if gone:
        ManagedResource.objects.filter(pk__in=gone).delete()


def _foreign_records(
    changes: Sequence[ForeignChange], row: ManagedResource | None, now: datetime
) -> list[dict[str, Any]]:
    """The records of ``changes``, each keeping the ``since`` of the same change already on ``row``."""
    known = {
        (item.get("path"), tuple(item.get("managers") or ())): item.get("since")
        for item in (row.foreign_changes if row is not None else [])
    }
    records = []
    for change in changes:
        record = change.as_record()
        record["since"] = known.get((change.path, change.managers)) or now.isoformat()
        records.append(record)
    return records


def _foreign_sentence(records: Sequence[Mapping[str, Any]]) -> str:
    """``Changed by kubectl-edit at spec.x[y] (not in the console's manifest; ...).``"""
    by_who: dict[str, list[str]] = {}
    for record in records:
        who = ", ".join(record.get("managers") or []) or "a writer the cluster did not record"
        by_who.setdefault(who, []).append(str(record.get("path")))
    parts = "; ".join(f"changed by {who} at {', '.join(paths)}" for who, paths in by_who.items())
    return (
        f"{parts[:1].upper()}{parts[1:]} (not in the console's manifest: its apply leaves it; an update by the "
        "console removes it)."
    )


def _order(obj: Mapping[str, Any]) -> int:
    try:
        return object_apply_order(obj)
    except (KeyError, ValueError):
        return 0
