"""Where the stack's external hosts live: host names become the addresses NetworkPolicies need.

Rendering does no I/O, so ``build_spec`` resolves each external host (``rendering.external_endpoints``) here, through
an injectable resolver, at every reconcile. The cluster's egress CIDRs (the shared services' ranges) take part:

- an IP literal needs no resolution (rendering uses it as it is);
- a name that resolves gets its addresses, each widened to the cluster CIDR that contains it (a failover inside the
  range then needs no new policy), else ``/32`` (``/128``);
- a name that does not resolve goes to the cluster CIDRs when there are some, and is otherwise an error naming the
  host and what to do (``UnresolvedHost``); a temporary DNS failure is transient.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Callable, Iterable, Sequence

from provisioning.choices import WhoseMove
from provisioning.reconcile.errors import DependenciesNotReady, UnresolvedHost
from provisioning.rendering import StackSpec, external_endpoints

Resolver = Callable[[str], Sequence[str]]
"""A host name → its IP addresses; raises ``HostNotFound`` when the name does not exist, ``OSError`` otherwise."""

CACHE_SECONDS = 60.0
_cache: dict[str, tuple[float, tuple[str, ...]]] = {}


class HostNotFound(LookupError):
    """The name does not exist (or has no address)."""


def system_resolver(host: str) -> tuple[str, ...]:
    """The machine's resolver (``getaddrinfo``), answers kept a minute in the process."""
    now = time.monotonic()
    cached = _cache.get(host)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        if error.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            raise HostNotFound(host) from None
        raise
    addresses = tuple(sorted({str(answer[4][0]) for answer in answers}))
    if not addresses:
        raise HostNotFound(host)
    _cache[host] = (now, addresses)
    return addresses


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _place(address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    ip = ipaddress.ip_address(address)
    for network in networks:
        if ip.version == network.version and ip in network:
            return str(network)
    return str(ipaddress.ip_network(ip))


def external_addresses(
    spec: StackSpec, cluster_cidrs: Iterable[str], cluster_name: str, resolver: Resolver = system_resolver
) -> dict[str, tuple[str, ...]]:
    """The CIDRs of every external host name ``spec`` names (see the module's rules)."""
    networks = [ipaddress.ip_network(cidr) for cidr in cluster_cidrs]
    found: dict[str, tuple[str, ...]] = {}
    for endpoint in external_endpoints(spec):
        host = endpoint.host
        if host in found or _is_literal(host):
            continue
        try:
            addresses = resolver(host)
        except HostNotFound:
            if not networks:
                raise UnresolvedHost(
                    f"the {endpoint.what} host {host!r} does not resolve from the console and cluster "
                    f"{cluster_name} lists no egress CIDRs, so no NetworkPolicy can let the registry reach it: fix "
                    "the host name, or give the shared services' CIDRs in the cluster's settings (Egress CIDRs)"
                ) from None
            found[host] = tuple(sorted(str(network) for network in networks))
            continue
        except OSError as error:
            raise DependenciesNotReady(
                f"The {endpoint.what} host {host!r} could not be resolved right now ({error}); retried.",
                WhoseMove.TRANSIENT,
            ) from None
        found[host] = tuple(sorted({_place(address, networks) for address in addresses}))
    return found
