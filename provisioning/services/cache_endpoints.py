"""Recording the Redis the provider's Redis service handed out for a registry (provider cache mode).

One endpoint (host and port) belongs to one registry: another registry's endpoint is refused on the ``host`` field.
The password is write-only: an empty one keeps what is stored. Every change is audited (the password masked), and
moves the registry's generation on and queues its reconciliation, which checks the endpoint and marks it
(:mod:`provisioning.external.redis`). Moving to another endpoint forgets that the old one was provisioned, so the
new one is taken only when it is empty or already carries this registry's mark.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from provisioning import audit
from provisioning.choices import BindingStatus, CacheMode, RunTrigger
from provisioning.models import CacheBinding, Registry
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import refuse_if_gone, request_reconcile

ENDPOINT_FIELDS = ("host", "port", "username", "password", "tls", "sentinel_master")
_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return bool(_HOST.match(host))


def _host_problem(host: str, sentinel: bool) -> str | None:
    if not host:
        return "Give the host name or address the provider's Redis service handed out."
    hosts = [part.strip().rsplit(":", 1)[0] if sentinel else part for part in host.split(",")]
    if (len(hosts) > 1 and not sentinel) or not all(_valid_host(h) for h in hosts):
        return f"{host!r} is not a host name or address: give one, e.g. redis-17.eu.example.net" + (
            " (several, comma-separated, for Sentinel)." if sentinel else "."
        )
    return None


def endpoint_owner(host: str, port: int, registry: Registry) -> CacheBinding | None:
    """The provider cache binding of another registry that records this endpoint, if any."""
    return (
        CacheBinding.objects.filter(mode=CacheMode.PROVIDER, host__iexact=host, port=port)
        .exclude(registry=registry)
        .select_related("registry__tenant")
        .first()
    )


def validate_endpoint(registry: Registry, values: dict[str, Any], stored_password: str) -> dict[str, Any]:
    """The endpoint as it would be saved, normalised; ValidationError keyed by field when it cannot be."""
    errors: dict[str, str] = {}
    sentinel = str(values.get("sentinel_master") or "").strip()
    host = str(values.get("host") or "").strip().lower().rstrip(".")
    port = values.get("port") or 6379
    if (problem := _host_problem(host, bool(sentinel))) is not None:
        errors["host"] = problem
    if not isinstance(port, int) or not 1 <= port <= 65535:
        errors["port"] = "Give a TCP port between 1 and 65535 (Redis: 6379)."
    if not (values.get("password") or stored_password):
        errors["password"] = "Give the password the provider's Redis service handed out for this registry."
    if not errors and (other := endpoint_owner(host, port, registry)) is not None:
        errors["host"] = (
            f"{host}:{port} is already the Redis of registry {other.registry}: an endpoint belongs to one "
            "registry (Harbor needs database 0 to itself). Ask the provider's Redis service for another instance."
        )
    if errors:
        raise ValidationError(errors)
    return {
        "host": host,
        "port": port,
        "username": str(values.get("username") or "").strip(),
        "password": values.get("password") or stored_password,
        "tls": bool(values.get("tls")),
        "sentinel_master": sentinel,
    }


@transaction.atomic
def set_cache_endpoint(registry: Registry, values: dict[str, Any], *, actor: Any, via: str) -> CacheBinding:
    """Record the provider Redis endpoint of ``registry``; ``values`` may leave out fields to keep them."""
    refuse_if_gone(registry, "changed")
    locked = Registry.objects.select_for_update().get(pk=registry.pk)
    binding = CacheBinding.objects.select_for_update().filter(registry=locked).first()
    if binding is None or binding.mode != CacheMode.PROVIDER:
        raise ActionRefused(
            f"{registry} runs its own Redis in its namespace: there is no provider endpoint to record.",
            code="managed_cache",
        )
    current = {name: getattr(binding, name) for name in ENDPOINT_FIELDS}
    wanted = validate_endpoint(
        locked, {**current, "password": "", **values}, stored_password=binding.password
    )
    changes = audit.diff(current, wanted)
    if not changes:
        return binding
    for name, value in wanted.items():
        setattr(binding, name, value)
    if {"host", "port", "sentinel_master"} & set(changes):
        binding.provisioned_at = None
        binding.previous_password, binding.rotation_started_at = "", None
        binding.record_check(BindingStatus.UNKNOWN, "endpoint changed: the next reconcile checks it.")
    binding.save()
    Registry.objects.filter(pk=locked.pk).update(generation=F("generation") + 1)
    locked.refresh_from_db()
    audit.record(actor, via, "set_cache_endpoint", binding, registry=locked, changes=changes)
    request_reconcile(locked, RunTrigger.CHANGED, actor=actor)
    return binding
