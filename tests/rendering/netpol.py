"""A small, honest model of how a CNI enforces NetworkPolicies (networking.k8s.io/v1), for the invariant tests.

A pod is isolated for a direction once any policy whose ``podSelector`` selects it lists that direction in
``policyTypes``; then only a connection some such policy's rule allows passes. A rule allows a peer when one of its
``to``/``from`` peers matches (``podSelector`` within the policy's namespace; ``namespaceSelector``, with an optional
``podSelector`` that must also match; ``ipBlock`` ``cidr`` minus ``except``, for addresses outside the cluster's pods)
and one of its ``ports`` matches the port and protocol (no ``ports``: every port; no ``to``/``from``: every peer). A
connection needs the source's egress and the destination's ingress to allow it. Selectors support ``matchLabels`` and
``matchExpressions`` (In, NotIn, Exists, DoesNotExist).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[tuple[int, str], ...] = ()
    """``(port, protocol)`` the pod listens on."""


@dataclass(frozen=True)
class External:
    """An address outside the cluster's pods."""

    address: str


Peer = Pod | External


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    if selector is None:
        return True
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or ():
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


@dataclass
class Network:
    """Namespaces (name → labels), and the policies of each namespace."""

    namespaces: dict[str, dict[str, str]]
    policies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _isolating: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def add_policies(self, objects: Iterable[Mapping[str, Any]]) -> None:
        for obj in objects:
            if obj["kind"] == "NetworkPolicy":
                self.add(obj["metadata"]["namespace"], obj["spec"])

    def add(self, namespace: str, spec: dict[str, Any]) -> None:
        self.policies.append((namespace, spec))
        self._isolating.clear()

    def _peer_matches(self, peer: Mapping[str, Any], policy_namespace: str, other: Peer) -> bool:
        if "ipBlock" in peer:
            if not isinstance(other, External):
                return False  # ipBlock is for addresses outside the cluster's pod network
            address = ipaddress.ip_address(other.address)
            block = peer["ipBlock"]
            network = ipaddress.ip_network(block["cidr"])
            if address.version != network.version or address not in network:
                return False
            return not any(
                address in ipaddress.ip_network(excepted)
                for excepted in block.get("except") or ()
                if ipaddress.ip_network(excepted).version == address.version
            )
        if not isinstance(other, Pod):
            return False
        if "namespaceSelector" in peer:
            if not selects(peer["namespaceSelector"], self.namespaces[other.namespace]):
                return False
        elif other.namespace != policy_namespace:
            return False
        return selects(peer.get("podSelector"), other.labels)

    def _ports_match(self, rule: Mapping[str, Any], port: int, protocol: str) -> bool:
        ports = rule.get("ports")
        if not ports:
            return True
        return any(
            item.get("protocol", "TCP") == protocol and item.get("port") in (None, port) for item in ports
        )

    def _allowed(self, pod: Pod, direction: str, other: Peer, port: int, protocol: str) -> bool:
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        memo = (pod.namespace, pod.name, direction)
        if memo not in self._isolating:
            self._isolating[memo] = [
                (namespace, spec)
                for namespace, spec in self.policies
                if namespace == pod.namespace
                and selects(spec["podSelector"], pod.labels)
                and direction in spec.get("policyTypes", ["Ingress"])
            ]
        isolating = self._isolating[memo]
        if not isolating:
            return True
        for namespace, spec in isolating:
            for rule in spec.get(key) or ():
                peers = rule.get(peers_key)
                if (not peers or any(self._peer_matches(peer, namespace, other) for peer in peers)) and (
                    self._ports_match(rule, port, protocol)
                ):
                    return True
        return False

    def allows(self, source: Peer, destination: Peer, port: int, protocol: str = "TCP") -> bool:
        """Whether a connection from ``source`` to ``destination`` on ``port``/``protocol`` passes."""
        if isinstance(source, Pod) and not self._allowed(source, "Egress", destination, port, protocol):
            return False
        return not isinstance(destination, Pod) or self._allowed(
            destination, "Ingress", source, port, protocol
        )
