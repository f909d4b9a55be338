"""NetworkPolicies: deny everything, then allow exactly what each component of the stack talks to.

Who talks to whom is read from the stack itself: the internal URLs of HARBOR.md (``INTERNAL_FLOWS``, with the few a
component learns only at run time marked so), the external services its configuration names (``external_endpoints``:
database, every Redis address, the object storage), upstream HTTPS for the components that fetch from the Internet,
and the cluster DNS. Each component gets one policy for its own pods: ingress from its clients on its ports, egress
to its servers on theirs. Peers outside the cluster are ``ipBlock``s, which take addresses, never host names: the
caller resolves each host (``StackSpec.external_addresses``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from provisioning.rendering.labels import selector_labels
from provisioning.rendering.names import (
    CORE,
    EXPORTER,
    HTTP_PORT,
    JOBSERVICE,
    METRICS_PORT,
    NETWORK,
    PORTAL,
    REDIS,
    REDIS_PORT,
    REGISTRY,
    REGISTRY_PORT,
    TRIVY,
)
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.redis_urls import redis_endpoint
from provisioning.rendering.requirements import SOLVER_LABEL, SOLVER_PORT
from provisioning.rendering.spec import StackSpec

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
DNS_PORT = 53
REDIS_CLIENTS = (CORE, REGISTRY, JOBSERVICE, TRIVY, EXPORTER)
DATABASE_CLIENTS = (CORE, JOBSERVICE, EXPORTER)
"""Jobservice is not given the database in its configuration: it loads core's at run time and opens it."""
UPSTREAM_CLIENTS = (CORE, JOBSERVICE, TRIVY)
"""Proxy cache and replication checks (core), replication and webhooks (jobservice), vulnerability databases
(trivy)."""
METRICS_COMPONENTS = (CORE, REGISTRY, JOBSERVICE, EXPORTER)
INGRESS_BACKENDS = (CORE, PORTAL)
PRIVATE_RANGES = tuple(
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "fc00::/7",
        "fe80::/10",
    )
)
"""Excepted from upstream CIDRs that contain them: the cluster's own pods, services and API server, the nodes and the
cloud's metadata service live there, and the upstream rule is meant for the Internet."""


@dataclass(frozen=True, slots=True)
class Flow:
    """``client`` pods open connections to ``server`` pods on ``ports`` (pod ports, not Service ports)."""

    client: str
    server: str
    ports: tuple[int, ...]
    why: str
    run_time: bool = False
    """Named by no configuration file: learnt at run time (documented in ``why``)."""


INTERNAL_FLOWS: tuple[Flow, ...] = (
    Flow(CORE, CORE, (HTTP_PORT,), "CORE_URL, TOKEN_SERVICE_URL"),
    Flow(CORE, PORTAL, (HTTP_PORT,), "PORTAL_URL"),
    Flow(CORE, REGISTRY, (REGISTRY_PORT, HTTP_PORT), "REGISTRY_URL, REGISTRY_CONTROLLER_URL"),
    Flow(CORE, JOBSERVICE, (HTTP_PORT,), "JOBSERVICE_URL"),
    Flow(CORE, TRIVY, (HTTP_PORT,), "TRIVY_ADAPTER_URL"),
    Flow(JOBSERVICE, CORE, (HTTP_PORT,), "CORE_URL, TOKEN_SERVICE_URL"),
    Flow(JOBSERVICE, REGISTRY, (REGISTRY_PORT, HTTP_PORT), "REGISTRY_URL, REGISTRY_CONTROLLER_URL"),
    Flow(JOBSERVICE, TRIVY, (HTTP_PORT,), "scan jobs call the scanner core registered", run_time=True),
    Flow(
        TRIVY,
        CORE,
        (HTTP_PORT,),
        "the scanner pulls from core's internal URL in each scan request",
        run_time=True,
    ),
    Flow(EXPORTER, CORE, (HTTP_PORT,), "HARBOR_SERVICE_HOST, HARBOR_SERVICE_PORT"),
    *(Flow(client, REDIS, (REDIS_PORT,), "the managed Redis") for client in REDIS_CLIENTS),
)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An external service the stack's configuration names, and the components that connect to it."""

    what: str
    host: str
    port: int
    clients: tuple[str, ...]


def _running(spec: StackSpec) -> frozenset[str]:
    return _RUNNING[(spec.trivy_enabled, spec.cache.mode == "managed")]


_RUNNING = {
    (trivy, managed): frozenset(
        {CORE, PORTAL, REGISTRY, JOBSERVICE, EXPORTER}
        | ({TRIVY} if trivy else set())
        | ({REDIS} if managed else set())
    )
    for trivy in (True, False)
    for managed in (True, False)
}


def internal_flows(spec: StackSpec) -> list[Flow]:
    """The flows between this stack's components (those it runs)."""
    running = _running(spec)
    return [flow for flow in INTERNAL_FLOWS if flow.client in running and flow.server in running]


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """``host:port``, ``[v6]:port``, or a bare host (``default_port``)."""
    address = address.strip()
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if address.count(":") == 1:
        host, port = address.split(":")
        return host, int(port)
    return address, default_port


def _url_host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port or (80 if parts.scheme == "http" else 443)


def external_endpoints(spec: StackSpec) -> list[Endpoint]:
    """Every external host and port the stack's configuration names, with the components that use it."""
    running = _running(spec)
    endpoints = [
        Endpoint("database", spec.database.host, spec.database.port, DATABASE_CLIENTS),
    ]
    if spec.cache.mode == "provider":
        what = "Redis Sentinel" if spec.cache.sentinel_master else "Redis"
        clients = tuple(client for client in REDIS_CLIENTS if client in running)
        for address in redis_endpoint(spec).addresses:
            host, port = split_host_port(address, spec.cache.port)
            endpoints.append(Endpoint(what, host, port, clients))
    storage = spec.storage
    if storage.kind == "s3" and storage.endpoint:
        endpoints.append(Endpoint("object storage", *_url_host_port(storage.endpoint), (REGISTRY,)))
    elif storage.kind == "swift":
        endpoints.append(Endpoint("Swift authentication", *_url_host_port(storage.auth_url), (REGISTRY,)))
    return endpoints


def upstream_clients(spec: StackSpec) -> tuple[str, ...]:
    """Components that need upstream HTTPS. The registry joins them when its object storage has no address the
    console knows: S3 without an endpoint (the provider's public service), or Swift (whose object store URL comes
    from the authentication service's catalogue at run time)."""
    clients = [client for client in UPSTREAM_CLIENTS if client in _running(spec)]
    if spec.storage.kind == "swift" or not spec.storage.endpoint:
        clients.append(REGISTRY)
    return tuple(clients)


@lru_cache(maxsize=1024)
def _literal_network(host: str) -> str | None:
    try:
        return str(ipaddress.ip_network(host))
    except ValueError:
        return None


def endpoint_cidrs(spec: StackSpec, endpoint: Endpoint) -> tuple[str, ...]:
    """Where ``endpoint`` lives: its IP literal, or the addresses the caller resolved for its host."""
    literal = _literal_network(endpoint.host)
    if literal is not None:
        return (literal,)
    cidrs = spec.external_addresses.get(endpoint.host)
    if not cidrs:
        raise ValueError(
            f"no address is known for the {endpoint.what} host {endpoint.host!r}: a NetworkPolicy needs its "
            "addresses; resolve it, or give the shared services' CIDRs in the cluster's settings."
        )
    return tuple(sorted(cidrs))


def upstream_peers(cidrs: tuple[str, ...]) -> list[Object]:
    """``ipBlock`` peers for the upstream CIDRs, each excepting the private ranges strictly inside it."""
    return [
        {"ipBlock": {**block, **({"except": list(block["except"])} if "except" in block else {})}}
        for block in _upstream_blocks(cidrs)
    ]


@lru_cache(maxsize=64)
def _upstream_blocks(cidrs: tuple[str, ...]) -> tuple[Object, ...]:
    blocks: list[Object] = []
    for cidr in cidrs:
        network = ipaddress.ip_network(cidr)
        excepted = [
            str(private)
            for private in PRIVATE_RANGES
            if private.version == network.version and private != network and private.subnet_of(network)  # type: ignore[arg-type]
        ]
        block: Object = {"cidr": str(network)}
        if excepted:
            block["except"] = excepted
        blocks.append(block)
    return tuple(blocks)


def _ports(numbers: Iterable[int], protocols: Sequence[str] = ("TCP",)) -> list[Object]:
    return [{"protocol": protocol, "port": port} for port in sorted(set(numbers)) for protocol in protocols]


def _namespace(name: str) -> Object:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}}


def _policy(
    spec: StackSpec, name: str, pod_selector: Object, types: list[str], **rules: list[Object]
) -> Object:
    body: Object = {"podSelector": pod_selector, "policyTypes": types}
    body.update(rules)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec, NETWORK, name),
        "spec": body,
    }


def _pods(spec: StackSpec, component: str) -> Object:
    return {"matchLabels": selector_labels(spec, component)}


def render_default_deny_networkpolicy(spec: StackSpec) -> Object:
    return _policy(spec, f"{spec.instance}-default-deny", {}, ["Ingress", "Egress"])


def render_dns_networkpolicy(spec: StackSpec) -> Object:
    """Every pod may ask the cluster DNS, wherever it runs."""
    peer = _namespace(spec.dns_namespace)
    peer["podSelector"] = {"matchLabels": dict(sorted(spec.dns_pod_labels.items()))}
    return _policy(
        spec,
        f"{spec.instance}-allow-dns",
        {},
        ["Egress"],
        egress=[{"to": [peer], "ports": _ports([DNS_PORT], ("UDP", "TCP"))}],
    )


def _ingress_rules(spec: StackSpec, component: str, flows: Sequence[Flow]) -> list[Object]:
    rules = [
        {"from": [{"podSelector": _pods(spec, flow.client)}], "ports": _ports(flow.ports)}
        for flow in flows
        if flow.server == component
    ]
    if component in INGRESS_BACKENDS:
        rules.append({"from": [_namespace(spec.ingress_namespace)], "ports": _ports([HTTP_PORT])})
    if component in METRICS_COMPONENTS:
        rules.append({"from": [_namespace(spec.monitoring_namespace)], "ports": _ports([METRICS_PORT])})
    return rules


def _egress_rules(
    spec: StackSpec,
    component: str,
    flows: Sequence[Flow],
    endpoints: Sequence[tuple[Endpoint, tuple[str, ...]]],
) -> list[Object]:
    rules = [
        {"to": [{"podSelector": _pods(spec, flow.server)}], "ports": _ports(flow.ports)}
        for flow in flows
        if flow.client == component
    ]
    for endpoint, cidrs in endpoints:
        if component in endpoint.clients:
            peers = [{"ipBlock": {"cidr": cidr}} for cidr in cidrs]
            rules.append({"to": peers, "ports": _ports([endpoint.port])})
    if spec.cache.mode == "provider" and spec.cache.sentinel_master and component in REDIS_CLIENTS:
        peers = [{"ipBlock": {"cidr": cidr}} for cidr in spec.egress_cidrs]
        rules.append({"to": peers, "ports": _ports([REDIS_PORT])})
    if spec.upstream_egress_cidrs and component in upstream_clients(spec):
        rules.append(
            {"to": upstream_peers(spec.upstream_egress_cidrs), "ports": _ports(spec.upstream_egress_ports)}
        )
    return rules


def render_component_networkpolicy(
    spec: StackSpec,
    component: str,
    flows: Sequence[Flow],
    endpoints: Sequence[tuple[Endpoint, tuple[str, ...]]],
) -> Object:
    """``<instance>-<component>``: who may reach the component's pods, and what they may reach."""
    return _policy(
        spec,
        f"{spec.instance}-{component}",
        _pods(spec, component),
        ["Ingress", "Egress"],
        ingress=_ingress_rules(spec, component, flows),
        egress=_egress_rules(spec, component, flows, endpoints),
    )


def render_solver_networkpolicy(spec: StackSpec) -> Object:
    """cert-manager's HTTP-01 solver pods answer the ingress controller (only when the issuer uses HTTP-01)."""
    return _policy(
        spec,
        f"{spec.instance}-acme-http01-solver",
        {"matchLabels": {SOLVER_LABEL: "true"}},
        ["Ingress"],
        ingress=[{"from": [_namespace(spec.ingress_namespace)], "ports": _ports([SOLVER_PORT])}],
    )


COMPONENT_ORDER = (CORE, PORTAL, REGISTRY, JOBSERVICE, TRIVY, EXPORTER, REDIS)


def render_networkpolicies(spec: StackSpec) -> list[Object]:
    """The default deny, DNS, one policy per running component, and the solver's when the issuer uses HTTP-01."""
    flows = internal_flows(spec)
    endpoints = [(endpoint, endpoint_cidrs(spec, endpoint)) for endpoint in external_endpoints(spec)]
    running = _running(spec)
    policies = [render_default_deny_networkpolicy(spec), render_dns_networkpolicy(spec)]
    policies += [
        render_component_networkpolicy(spec, component, flows, endpoints)
        for component in COMPONENT_ORDER
        if component in running
    ]
    if spec.acme_http01:
        policies.append(render_solver_networkpolicy(spec))
    return policies
