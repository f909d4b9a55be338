"""What a dependency is provisioned from, as one hash: a reconcile provisions again only when it changes.

The hash covers the binding's own settings (names, hosts, credentials, mode), the registry's plan (the connection
limit and memory come from it), the registry's name and namespace, and how the console reaches the service as its
administrator. It leaves out what checks and provisioning record (status, timestamps, figures) and is stored on the
binding (``provisioned_hash``) only after a provisioning whose check found the service OK.

:func:`settled` says when a reconcile may read the binding's last check instead of calling the service: the hash
still matches, the last check was OK and is recent (the periodic check keeps it so), and no rotation waits. Anything
else (a change, a problem, a stale or missing check) sends the binding through provisioning and a check again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from django.db import models

from provisioning.external import connections
from provisioning.models import Binding, CacheBinding, Cluster, DatabaseBinding, Registry, StorageBinding

VERSION = 1
"""Bump when provisioning itself changes what it does, so every binding is provisioned once more."""

RECORDED_FIELDS = frozenset(
    {
        "id",
        "registry",
        "status",
        "status_message",
        "whose_move",
        "status_since",
        "last_checked_at",
        "latency_ms",
        "check_details",
        "provisioned_at",
        "provisioned_hash",
        "server_version",
        "used_memory_bytes",
        "bucket_claimed_at",
    }
)
"""What checks and provisioning write on a binding: outcomes, not what it is provisioned from."""


def _values(instance: models.Model, leave_out: frozenset[str] = frozenset()) -> dict[str, Any]:
    return {
        f.name: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.name not in leave_out
    }


def admin_cluster(registry: Registry) -> Cluster:
    """The registry's cluster with the shared services' admin connection: the one loaded with the registry when it
    holds those fields (``load_registry`` does), else read now."""
    if Registry.cluster.is_cached(registry):
        cluster = registry.cluster
        if not cluster.get_deferred_fields() & set(ADMIN_FIELDS):
            return cluster
    return Cluster.objects.only(*ADMIN_FIELDS).get(pk=registry.cluster_id)


ADMIN_FIELDS = ("database_admin_url", "s3_endpoint", "s3_region", "s3_access_key", "s3_secret_key", "s3_iam")


def _admin(binding: Binding, cluster: Cluster | None) -> Any:
    """How the console reaches the binding's service as administrator (None for a managed Redis)."""
    cluster = cluster or binding.registry.cluster  # type: ignore[attr-defined]
    if isinstance(binding, DatabaseBinding):
        return connections.database_admin_url(cluster)
    if isinstance(binding, StorageBinding):
        admin = connections.s3_admin(cluster)
        return (
            None
            if admin is None
            else [admin.endpoint, admin.region, admin.access_key, admin.secret_key, admin.iam]
        )
    if isinstance(binding, CacheBinding):
        return None
    raise TypeError(f"no desired state for {type(binding).__name__}")


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def desired_hash(binding: Binding, cluster: Cluster | None = None) -> str:
    """SHA-256 of everything ``binding`` is provisioned from (see the module's docstring); ``cluster`` holds the
    admin connection when given (else the binding's registry's cluster is read)."""
    registry = binding.registry  # type: ignore[attr-defined]
    document = {
        "version": VERSION,
        "kind": binding.KIND,
        "binding": _values(binding, RECORDED_FIELDS),
        "plan": _values(registry.plan, frozenset({"description", "display_name"})),
        "registry": [registry.pk, registry.name, registry.namespace],
        "admin": _admin(binding, cluster),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=_default)
    return hashlib.sha256(text.encode()).hexdigest()


def settled(binding: Binding, now: datetime | None = None, cluster: Cluster | None = None) -> bool:
    """May a reconcile take the binding's last check as it is, without calling the service?"""
    return (
        bool(binding.provisioned_hash)
        and binding.is_ok
        and binding.rotation_requested_at is None
        and not binding.check_is_stale(now)
        and binding.provisioned_hash == desired_hash(binding, cluster)
    )
