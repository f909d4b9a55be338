"""Network invariants over the whole matrix (and every object storage kind), under the NetworkPolicy model of
``tests.rendering.netpol``:

1. every host and port a component's rendered configuration names (env, envFrom ConfigMaps and Secrets, mounted
   config files: database, Redis URLs, S3/Swift endpoints, the internal service URLs, upstream repositories) is
   reachable from that component's pods, and every pod reaches the cluster DNS on 53/UDP and 53/TCP;
2. nothing else is open: every connection the policies allow, to or from the tenant's pods, is one of those, one of
   the few a component learns at run time (listed here, with the reason), the ingress controller to core, portal and
   the HTTP-01 solver, Prometheus to the metrics ports, or upstream HTTPS for the components that fetch from it.

Configuration is read back from the rendered objects by this test's own parser, not from rendering's tables.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Iterator
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.rendering.matrix import MATRIX, STORAGES, matrix_objects, matrix_spec
from tests.rendering.netpol import External, Network, Pod
from tests.rendering.specs import ADDRESSES

NAMESPACE = "tenant-acme"
COMPONENT = "app.kubernetes.io/component"
PUBLIC = External("203.0.113.10")
PRIVATE_PROBES = [
    External(address) for address in ("10.0.0.1", "169.254.169.254", "172.16.0.1", "192.168.1.1")
]
PROBE_PORTS = (22, 80, 443, 5000, 5432, 6379, 6380, 8080)
DEFAULT_PORTS = {"http": 80, "https": 443, "redis": 6379, "rediss": 6379, "redis+sentinel": 26379}

RUN_TIME = {
    ("jobservice", "trivy", 8080): "scan jobs call the scanner core registered",
    ("trivy", "core", 8080): "the scanner pulls from core's internal URL in each scan request",
}
RUN_TIME_DATABASE = ("jobservice",)
"""Jobservice opens the database core's configuration API hands it at run time."""
UPSTREAM = {"core", "jobservice", "trivy"}
METRICS = {"core", "registry", "jobservice", "exporter"}

Flow = tuple[str, str, int, str]
"""(source pod, destination pod or address, port, protocol)."""


def _foreign_pods() -> list[Pod]:
    return [
        Pod("dns", "kube-system", {"k8s-app": "kube-dns"}, ((53, "UDP"), (53, "TCP"), (9153, "TCP"))),
        Pod("metrics-server", "kube-system", {"k8s-app": "metrics-server"}, ((443, "TCP"), (53, "UDP"))),
        Pod("ingress-controller", "ingress-nginx", {"app": "ingress-nginx"}, ((80, "TCP"), (443, "TCP"))),
        Pod("prometheus", "monitoring", {"app": "prometheus"}, ((9090, "TCP"),)),
        Pod(
            "other-tenant-core",
            "other-tenant",
            {"app.kubernetes.io/name": "harbor", "app.kubernetes.io/instance": "harbor", COMPONENT: "core"},
            ((8080, "TCP"),),
        ),
    ]


def _our_pods(objects: list[dict[str, Any]], solver: bool) -> list[Pod]:
    pods = []
    for obj in objects:
        if obj["kind"] in ("Deployment", "StatefulSet"):
            template = obj["spec"]["template"]
            ports = tuple(
                (port["containerPort"], port.get("protocol", "TCP"))
                for container in template["spec"]["containers"]
                for port in container.get("ports", ())
            )
            labels = template["metadata"]["labels"]
            pods.append(Pod(labels[COMPONENT], NAMESPACE, labels, ports))
    if solver:
        pods.append(
            Pod("solver", NAMESPACE, {"acme.cert-manager.io/http01-solver": "true"}, ((8089, "TCP"),))
        )
    return pods


def _config_values(objects: list[dict[str, Any]], pod_spec: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (key, value) a pod reads: env, envFrom ConfigMaps and Secrets, and mounted configuration files."""
    found = {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}

    def data(kind: str, name: str) -> dict[str, str]:
        obj = found[(kind, name)]
        if kind == "Secret":
            return {key: base64.b64decode(value).decode() for key, value in obj["data"].items()}
        return dict(obj["data"])

    for container in pod_spec["containers"]:
        for source in container.get("envFrom", ()):
            kind, ref = (
                ("ConfigMap", source["configMapRef"])
                if "configMapRef" in source
                else ("Secret", source["secretRef"])
            )
            yield from data(kind, ref["name"]).items()
        for variable in container.get("env", ()):
            if "value" in variable:
                yield variable["name"], variable["value"]
    for volume in pod_spec.get("volumes", ()):
        if "configMap" in volume:
            for key, text in data("ConfigMap", volume["configMap"]["name"]).items():
                if key.endswith((".yml", ".yaml")):
                    yield from _file_strings(text, key)


@cache
def _file_strings(text: str, name: str) -> tuple[tuple[str, str], ...]:
    return tuple(_yaml_strings(yaml.load(text, Loader=yaml.CSafeLoader), name))


def _yaml_strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _yaml_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for item in value:
            yield from _yaml_strings(item, path)
    elif isinstance(value, str):
        yield path, value


def _named(values: list[tuple[str, str]]) -> set[tuple[str, int]]:
    """The (host, port) pairs named: URLs, ``*_HOST``/``*_PORT`` pairs, Redis ``addr`` lists, image repositories."""
    named = set()
    env = dict(values)
    for key, value in values:
        if "://" in value:
            parts = urlsplit(value)
            netloc = parts.netloc.rsplit("@", 1)[-1]
            for address in netloc.split(","):
                host, _, port = (
                    address.rpartition(":") if "]" not in address.rsplit(":", 1)[-1] else (address, "", "")
                )
                if not host:
                    host, port = address, ""
                named.add((host.strip("[]"), int(port) if port else DEFAULT_PORTS[parts.scheme]))
        elif key.endswith("_HOST") and f"{key[:-5]}_PORT" in env:
            named.add((value, int(env[f"{key[:-5]}_PORT"])))
        elif key.endswith(".redis.addr"):
            for address in value.split(","):
                host, _, port = address.rpartition(":")
                named.add((host, int(port)))
        elif key.endswith("_DB_REPOSITORY"):
            named.update((reference.split("/", 1)[0], 443) for reference in value.split(","))
    return named


@cache
def _representatives(host: str) -> list[External] | None:
    try:
        return [External(str(ipaddress.ip_address(host)))]
    except ValueError:
        pass
    if host in ADDRESSES:
        return [External(str(ipaddress.ip_network(cidr).network_address)) for cidr in ADDRESSES[host]]
    return None


def _destinations(
    objects: list[dict[str, Any]], pods: dict[str, Pod], host: str, port: int
) -> list[tuple[Any, int]]:
    """Where a named (host, port) leads: Service → its pods' target port; an address; else the Internet."""
    if host in ("127.0.0.1", "localhost"):
        return []
    services = {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == "Service"}
    service = (
        services.get(host.split(".")[0])
        if host.split(".")[0] in services and "." not in host.rstrip(".svc")
        else None
    )
    if service is not None:
        target = next(item["targetPort"] for item in service["spec"]["ports"] if item["port"] == port)
        chosen = [
            pod
            for pod in pods.values()
            if all(pod.labels.get(k) == v for k, v in service["spec"]["selector"].items())
        ]
        assert chosen, f"Service {host} selects no pod"
        result = []
        for pod in chosen:
            if isinstance(target, int):
                result.append((pod, target))
            else:
                template = next(
                    obj["spec"]["template"]["spec"]
                    for obj in objects
                    if obj["kind"] in ("Deployment", "StatefulSet")
                    and obj["spec"]["template"]["metadata"]["labels"][COMPONENT] == pod.name
                )
                numbers = [
                    item["containerPort"]
                    for container in template["containers"]
                    for item in container.get("ports", ())
                    if item["name"] == target
                ]
                result.append((pod, numbers[0]))
        return result
    return [(external, port) for external in (_representatives(host) or [PUBLIC])]


def _key(peer: Any) -> str:
    return peer.name if isinstance(peer, Pod) else peer.address


@cache
def _check(
    policies_json: str, pods_json: str, expected: frozenset[Flow], externals: tuple[External, ...]
) -> None:
    pods = [
        Pod(name, NAMESPACE, labels, tuple((port, protocol) for port, protocol in ports))
        for name, labels, ports in json.loads(pods_json)
    ]
    network = Network(
        {
            name: {"kubernetes.io/metadata.name": name}
            for name in (NAMESPACE, "kube-system", "ingress-nginx", "monitoring", "other-tenant")
        }
    )
    network.add_policies(json.loads(policies_json))
    everyone = [*pods, *_foreign_pods()]
    by_name = {pod.name: pod for pod in everyone}
    for source_name, destination_name, port, protocol in expected:
        target = by_name.get(destination_name) or External(destination_name)
        assert network.allows(by_name[source_name], target, port, protocol), (
            f"{source_name} cannot reach {destination_name}:{port}/{protocol}"
        )
    targets: list[tuple[Any, int, str]] = []
    for pod in everyone:
        targets += [(pod, port, protocol) for port, protocol in pod.ports]
        targets += [(pod, 9999, "TCP"), (pod, 53, "UDP")]
    for external in (*externals, PUBLIC, *PRIVATE_PROBES):
        targets += [(external, port, "TCP") for port in PROBE_PORTS]
    for source in everyone:
        for destination, port, protocol in targets:
            ours = source.namespace == NAMESPACE or (
                isinstance(destination, Pod) and destination.namespace == NAMESPACE
            )
            if not ours or not network.allows(source, destination, port, protocol):
                continue
            flow = (source.name, _key(destination), port, protocol)
            assert flow in expected, f"open but not needed: {flow}"


def _expected(objects: list[dict[str, Any]], pods: dict[str, Pod], storage: str) -> set[Flow]:
    spec_of = {
        obj["spec"]["template"]["metadata"]["labels"][COMPONENT]: obj["spec"]["template"]["spec"]
        for obj in objects
        if obj["kind"] in ("Deployment", "StatefulSet")
    }
    expected: set[Flow] = set()
    for component, pod_spec in spec_of.items():
        for host, port in _named(list(_config_values(objects, pod_spec))):
            for destination, target in _destinations(objects, pods, host, port):
                expected.add((component, _key(destination), target, "TCP"))
        expected |= {(component, "dns", 53, "UDP"), (component, "dns", 53, "TCP")}
    database = next(
        obj for obj in objects if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == "harbor-core-env"
    )["data"]
    for component in RUN_TIME_DATABASE:
        for destination, target in _destinations(
            objects, pods, database["POSTGRESQL_HOST"], int(database["POSTGRESQL_PORT"])
        ):
            expected.add((component, _key(destination), target, "TCP"))
    for source, destination, port in RUN_TIME:
        if source in pods and destination in pods:
            expected.add((source, destination, port, "TCP"))
    for backend in ("core", "portal"):
        expected.add(("ingress-controller", backend, 8080, "TCP"))
    if "solver" in pods:
        expected |= {
            ("ingress-controller", "solver", 8089, "TCP"),
            ("solver", "dns", 53, "UDP"),
            ("solver", "dns", 53, "TCP"),
        }
    expected |= {("prometheus", component, 8001, "TCP") for component in METRICS}
    upstream = set(UPSTREAM) | ({"registry"} if storage != "s3" else set())
    public = [
        PUBLIC.address,
        *(external.address for external in _externals() if _outside_the_cluster(external.address)),
    ]
    expected |= {
        (component, address, 443, "TCP") for component in upstream if component in pods for address in public
    }
    return expected


INTERNAL_RANGES = [
    ipaddress.ip_network(cidr)
    for cidr in (
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
    )
]
"""Where a cluster's pods, services, nodes and the cloud's metadata live: never upstream."""


def _outside_the_cluster(address: str) -> bool:
    return not any(ipaddress.ip_address(address) in network for network in INTERNAL_RANGES)


def _selected_keys(value: Any) -> set[str]:
    """Every label key a selector of ``value`` mentions: labels no selector mentions cannot change a verdict, so
    the (cached) check leaves them out of its key."""
    keys: set[str] = set()
    if isinstance(value, dict):
        keys |= set(value.get("matchLabels") or {})
        keys |= {item["key"] for item in value.get("matchExpressions") or () if isinstance(item, dict)}
        for item in value.values():
            keys |= _selected_keys(item)
    elif isinstance(value, list):
        for item in value:
            keys |= _selected_keys(item)
    return keys


@cache
def _externals() -> tuple[External, ...]:
    """One address inside each CIDR the specs' hosts resolve to."""
    return tuple(
        External(str(ipaddress.ip_network(cidr).network_address))
        for cidrs in ADDRESSES.values()
        for cidr in cidrs
    )


def _verify(objects: list[dict[str, Any]], storage: str, solver: bool) -> None:
    pods = {pod.name: pod for pod in _our_pods(objects, solver)}
    expected = _expected(objects, pods, storage)
    policies = [
        {"kind": obj["kind"], "metadata": {"namespace": obj["metadata"]["namespace"]}, "spec": obj["spec"]}
        for obj in objects
        if obj["kind"] == "NetworkPolicy"
    ]
    selected = _selected_keys(policies)
    policies_json = json.dumps(policies, sort_keys=True)
    externals = tuple(
        External(str(ipaddress.ip_network(cidr).network_address))
        for cidrs in ADDRESSES.values()
        for cidr in cidrs
    )
    pods_json = json.dumps(
        [
            (pod.name, {k: v for k, v in pod.labels.items() if k in selected}, pod.ports)
            for pod in pods.values()
        ],
        sort_keys=True,
    )
    _check(policies_json, pods_json, frozenset(expected), externals)


def test_every_named_host_is_reachable_and_nothing_else_is_open_over_the_matrix() -> None:
    for point in MATRIX:
        _verify(matrix_objects(point), "s3", solver=True)


def test_every_object_storage_kind_over_the_dimensions_that_shape_the_network() -> None:
    """Version, Trivy and cache mode change who talks to whom; plan, HA and suspension do not (the matrix above)."""
    for point in MATRIX:
        if (point[1], point[4], point[5]) == ("m", False, False):  # plan, HA, suspended
            for storage in STORAGES:
                _verify(matrix_objects(point, storage), storage, solver=True)


def test_without_http01_the_solver_gets_nothing_and_without_upstream_nothing_public_is_open() -> None:
    point = ("2.15.2", "m", True, "managed", True, False)
    _verify(matrix_objects(point, acme_http01=False), "s3", solver=False)
    objects = matrix_objects(point, upstream_egress_cidrs=())
    network = Network({NAMESPACE: {"kubernetes.io/metadata.name": NAMESPACE}})
    network.add_policies(objects)
    pods = {pod.name: pod for pod in _our_pods(objects, solver=True)}
    assert not any(network.allows(pod, PUBLIC, 443) for pod in pods.values())


def test_the_cluster_dns_is_reached_where_it_runs_and_nowhere_else() -> None:
    spec = matrix_spec(
        ("2.15.2", "s", False, "provider", False, False),
        dns_namespace="dns",
        dns_pod_labels={"app": "coredns"},
    )
    from provisioning.rendering import render_stack

    network = Network(
        {name: {"kubernetes.io/metadata.name": name} for name in (NAMESPACE, "dns", "kube-system")}
    )
    network.add_policies(render_stack(spec))
    core = Pod(
        "core",
        NAMESPACE,
        {"app.kubernetes.io/name": "harbor", "app.kubernetes.io/instance": "harbor", COMPONENT: "core"},
    )
    assert network.allows(core, Pod("coredns", "dns", {"app": "coredns"}), 53, "UDP")
    assert not network.allows(core, Pod("kube-dns", "kube-system", {"k8s-app": "kube-dns"}), 53, "UDP")
    assert not network.allows(core, Pod("other", "dns", {"app": "other"}), 53, "UDP")


def test_the_model_enforces_what_a_cni_does() -> None:
    network = Network({"a": {"kubernetes.io/metadata.name": "a"}, "b": {"kubernetes.io/metadata.name": "b"}})
    web, db = Pod("web", "a", {"app": "web"}), Pod("db", "a", {"app": "db"})
    stranger = Pod("x", "b", {"app": "web"})
    assert network.allows(web, db, 5432)  # no policy: open
    network.add("a", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
    assert not network.allows(web, db, 5432)
    network.add(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"app": "web"}}}],
                    "ports": [{"protocol": "TCP", "port": 5432}],
                }
            ],
        },
    )
    network.add(
        "a",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                    "ports": [{"port": 443}],
                },
                {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]},
            ],
        },
    )
    assert network.allows(web, db, 5432)
    assert not network.allows(web, db, 5433)  # the db's ingress names 5432 only
    assert not network.allows(stranger, db, 5432)  # a podSelector alone stays in the policy's namespace
    assert network.allows(web, External("203.0.113.1"), 443)
    assert not network.allows(web, External("10.1.2.3"), 443)  # excepted
    assert not network.allows(web, External("203.0.113.1"), 80)
    assert not network.allows(web, db, 53, "UDP")
