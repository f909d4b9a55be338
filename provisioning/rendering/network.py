"""NetworkPolicies: deny everything, then allow exactly what a Harbor stack needs."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from provisioning.rendering.labels import APP_NAME, COMPONENT_LABEL, INSTANCE_LABEL, NAME_LABEL
from provisioning.rendering.names import (
    CORE,
    EXPORTER,
    HARBOR_COMPONENTS,
    HTTP_PORT,
    JOBSERVICE,
    METRICS_PORT,
    NETWORK,
    PORTAL,
    REGISTRY,
    TRIVY,
)
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.redis_urls import redis_endpoint
from provisioning.rendering.spec import StackSpec

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
EXTERNAL_SERVICE_CLIENTS = (CORE, REGISTRY, JOBSERVICE, TRIVY, EXPORTER)
UPSTREAM_CLIENTS = (CORE, JOBSERVICE, TRIVY)
METRICS_COMPONENTS = (CORE, REGISTRY, JOBSERVICE, EXPORTER)


def _pods(spec: StackSpec, components: Sequence[str] | None = None) -> Object:
    """Selector of this instance's pods, optionally narrowed to some components."""
    selector: Object = {"matchLabels": {NAME_LABEL: APP_NAME, INSTANCE_LABEL: spec.instance}}
    if components is not None:
        selector["matchExpressions"] = [
            {"key": COMPONENT_LABEL, "operator": "In", "values": list(components)}
        ]
    return selector


def _namespace(name: str) -> Object:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: name}}}


def _ports(numbers: Iterable[int], protocols: Sequence[str] = ("TCP",)) -> list[Object]:
    return [{"protocol": protocol, "port": port} for port in sorted(set(numbers)) for protocol in protocols]


def _policy(
    spec: StackSpec, suffix: str, pod_selector: Object, types: list[str], **rules: list[Object]
) -> Object:
    body: Object = {"podSelector": pod_selector, "policyTypes": types}
    body.update(rules)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": metadata(spec, NETWORK, f"{spec.instance}-{suffix}"),
        "spec": body,
    }


def _url_port(url: str) -> int:
    parts = urlsplit(url)
    return parts.port or (80 if parts.scheme == "http" else 443)


def external_service_ports(spec: StackSpec) -> list[int]:
    """Ports of the database, the provider's Redis (every Sentinel) and the object storage."""
    ports = {spec.database.port, 443}
    if spec.cache.mode == "provider":
        ports.update(int(address.rsplit(":", 1)[1]) for address in redis_endpoint(spec).addresses)
    storage = spec.storage
    ports.add(_url_port(storage.endpoint) if storage.kind == "s3" and storage.endpoint else 443)
    if storage.kind == "swift":
        ports.add(_url_port(storage.auth_url))
    return sorted(ports)


def render_default_deny_networkpolicy(spec: StackSpec) -> Object:
    return _policy(spec, "default-deny", {}, ["Ingress", "Egress"])


def render_dns_networkpolicy(spec: StackSpec) -> Object:
    return _policy(
        spec,
        "allow-dns",
        {},
        ["Egress"],
        egress=[{"to": [_namespace("kube-system")], "ports": _ports([53], ("UDP", "TCP"))}],
    )


def render_intra_networkpolicy(spec: StackSpec) -> Object:
    """Harbor components talk to each other (and to the managed Redis, which has its own ingress policy)."""
    return _policy(
        spec,
        "allow-intra",
        _pods(spec, HARBOR_COMPONENTS),
        ["Ingress", "Egress"],
        ingress=[{"from": [{"podSelector": _pods(spec, HARBOR_COMPONENTS)}]}],
        egress=[{"to": [{"podSelector": _pods(spec)}]}],
    )


def render_ingress_controller_networkpolicy(spec: StackSpec) -> Object:
    return _policy(
        spec,
        "allow-ingress-controller",
        _pods(spec, (CORE, PORTAL)),
        ["Ingress"],
        ingress=[{"from": [_namespace(spec.ingress_namespace)], "ports": _ports([HTTP_PORT])}],
    )


def render_monitoring_networkpolicy(spec: StackSpec) -> Object:
    return _policy(
        spec,
        "allow-monitoring",
        _pods(spec, METRICS_COMPONENTS),
        ["Ingress"],
        ingress=[{"from": [_namespace(spec.monitoring_namespace)], "ports": _ports([METRICS_PORT])}],
    )


def render_external_services_networkpolicy(spec: StackSpec) -> Object | None:
    """Egress to the database, cache and object storage CIDRs; ``None`` when the spec lists no CIDR."""
    if not spec.egress_cidrs:
        return None
    return _policy(
        spec,
        "allow-external-services",
        _pods(spec, EXTERNAL_SERVICE_CLIENTS),
        ["Egress"],
        egress=[
            {
                "to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.egress_cidrs],
                "ports": _ports(external_service_ports(spec)),
            }
        ],
    )


def render_upstream_networkpolicy(spec: StackSpec) -> Object | None:
    """Egress on 80/443 for proxy cache, replication and the Trivy databases; ``None`` without CIDRs."""
    if not spec.upstream_egress_cidrs:
        return None
    return _policy(
        spec,
        "allow-upstream",
        _pods(spec, UPSTREAM_CLIENTS),
        ["Egress"],
        egress=[
            {
                "to": [{"ipBlock": {"cidr": cidr}} for cidr in spec.upstream_egress_cidrs],
                "ports": _ports([80, 443]),
            }
        ],
    )


def render_networkpolicies(spec: StackSpec) -> list[Object]:
    """All instance-wide policies, the default deny first."""
    policies = [
        render_default_deny_networkpolicy(spec),
        render_dns_networkpolicy(spec),
        render_intra_networkpolicy(spec),
        render_ingress_controller_networkpolicy(spec),
        render_monitoring_networkpolicy(spec),
        render_external_services_networkpolicy(spec),
        render_upstream_networkpolicy(spec),
    ]
    return [policy for policy in policies if policy is not None]
