"""External hosts become addresses for NetworkPolicies (``reconcile.addresses``), through an injected resolver."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from provisioning.reconcile.addresses import HostNotFound, external_addresses
from provisioning.reconcile.errors import DependenciesNotReady, UnresolvedHost
from provisioning.rendering import DatabaseSpec, render_stack
from tests.rendering.specs import SWIFT, build_spec

ANSWERS = {
    "pg-acme.db.example": ["10.20.1.5", "10.20.1.6"],
    "redis-acme.db.example": ["203.0.113.7"],
    "s3.gra.io.cloud.example": ["198.51.100.20", "2001:db8::20"],
    "auth.cloud.example": ["198.51.100.30"],
}


def resolver(host: str) -> Sequence[str]:
    if host == "down.example":
        raise OSError("temporary failure in name resolution")
    if host not in ANSWERS:
        raise HostNotFound(host)
    return ANSWERS[host]


def test_resolved_hosts_are_widened_to_the_cluster_cidr_that_holds_them() -> None:
    spec = build_spec(external_addresses={})
    found = external_addresses(spec, ["10.20.0.0/16"], "gra1", resolver)
    assert found == {
        "pg-acme.db.example": ("10.20.0.0/16",),
        "redis-acme.db.example": ("203.0.113.7/32",),
        "s3.gra.io.cloud.example": ("198.51.100.20/32", "2001:db8::20/128"),
    }
    assert render_stack(build_spec(external_addresses=found))


def test_ip_literals_need_no_resolution() -> None:
    literal = DatabaseSpec(host="192.0.2.5", username="u", password="p")
    spec = build_spec(database=literal, external_addresses={})
    assert "192.0.2.5" not in external_addresses(spec, [], "gra1", resolver)


def test_a_host_that_does_not_resolve_goes_to_the_cluster_cidrs_or_is_refused_by_name() -> None:
    spec = build_spec(
        storage=SWIFT,
        external_addresses={},
        database=DatabaseSpec(host="pg.nowhere", username="u", password="p"),
    )
    assert external_addresses(spec, ["10.20.0.0/16"], "gra1", resolver)["pg.nowhere"] == ("10.20.0.0/16",)
    with pytest.raises(UnresolvedHost, match=r"database host 'pg\.nowhere' does not resolve .* cluster gra1"):
        external_addresses(spec, [], "gra1", resolver)


def test_a_temporary_dns_failure_is_transient() -> None:
    spec = build_spec(
        external_addresses={}, database=DatabaseSpec(host="down.example", username="u", password="p")
    )
    with pytest.raises(DependenciesNotReady, match="could not be resolved right now"):
        external_addresses(spec, ["10.20.0.0/16"], "gra1", resolver)
