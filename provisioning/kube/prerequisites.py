"""What a cluster must already have before a Harbor stack can run on it, checked through a gateway.

Each item is reported as present (``True``), absent (``False``) or unknown (``None``: the check itself failed — the
console may not read it, or the API server did not answer — which is never "absent"), with a sentence saying what
was found and what the provider can do. ``PrerequisiteReport.items`` is the shape of the ``Cluster.prerequisites``
JSON field; the report also says whether the ClusterIssuer solves HTTP-01 challenges through an ingress (and with
which ingress class), so rendering can let the solver's pods receive traffic, and where the cluster DNS Service runs.

CustomResourceDefinitions are checked through API discovery (readable by every authenticated client), the rest by
reading the objects. Names are plain strings; an empty ingress or storage class name means "the cluster default".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from provisioning.kube.errors import KubeApiError, KubeUnreachable
from provisioning.kube.gateway import KubeGateway

CERTIFICATE_CRD = "certificates.cert-manager.io"
CLUSTER_ISSUER_CRD = "clusterissuers.cert-manager.io"
STACK_CRDS = (CERTIFICATE_CRD,)
DEFAULT_DNS_SERVICE = "kube-system/kube-dns"
DNS_LABEL = "k8s-app=kube-dns"
DEFAULT_STORAGE_CLASS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)
DEFAULT_INGRESS_CLASS = ("ingressclass.kubernetes.io/is-default-class",)

T = TypeVar("T")


@dataclass(frozen=True)
class DnsService:
    """Where the cluster DNS answers: its Service, address, ports and the labels of its pods."""

    namespace: str
    name: str
    cluster_ip: str
    ports: tuple[tuple[int, str], ...]
    selector: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PrerequisiteReport:
    items: list[dict[str, Any]]
    """``[{"kind", "name", "present": True|False|None, "message"}]``, as ``Cluster.prerequisites`` stores them."""
    http01_ingress: bool | None = None
    """The ClusterIssuer solves HTTP-01 through an ingress (None: the issuer could not be read, or none was named)."""
    http01_ingress_class: str = ""
    """The ingress class its solver uses (empty: the solver names none)."""
    dns: DnsService | None = None

    @property
    def ready(self) -> bool | None:
        """True when every item is present, False when one is absent, None when one could not be checked."""
        states = [item["present"] for item in self.items]
        if False in states:
            return False
        return None if None in states else True

    def missing(self) -> list[dict[str, Any]]:
        return [item for item in self.items if item["present"] is not True]


class _Unknown(Exception):
    """A check that could not be made; its message says why."""


def _item(kind: str, name: str, present: bool | None, message: str) -> dict[str, Any]:
    return {"kind": kind, "name": name, "present": present, "message": message}


def _reading(what: str, call: Callable[[], T]) -> T:
    """``call()``, or ``_Unknown`` with a sentence when the API server refused or did not answer."""
    try:
        return call()
    except KubeUnreachable as error:
        raise _Unknown(f"{what} could not be checked: the API server did not answer ({error}).") from None
    except KubeApiError as error:
        if error.status in (401, 403):
            raise _Unknown(
                f"{what} could not be checked: the console's credentials may not read it ({error.status} "
                f"{error.reason}). Grant its service account get and list on it, or check it by hand."
            ) from None
        raise _Unknown(
            f"{what} could not be checked: {error.status} {error.reason}: {error.message}"
        ) from None


def _served(gateway: KubeGateway, crd: str) -> bool:
    """Is the kind of CRD ``plural.group`` served in the group's ``v1``?"""
    plural, _, group = crd.partition(".")
    table = gateway.discover(f"{group}/v1")
    return table is not None and any(resource.plural == plural for resource in table.values())


def _check_crd(gateway: KubeGateway, crd: str) -> dict[str, Any]:
    try:
        served = _reading(f"CustomResourceDefinition {crd}", lambda: _served(gateway, crd))
    except _Unknown as unknown:
        return _item("CustomResourceDefinition", crd, None, str(unknown))
    if served:
        return _item("CustomResourceDefinition", crd, True, f"{crd} is installed and served.")
    group = crd.partition(".")[2]
    return _item(
        "CustomResourceDefinition",
        crd,
        False,
        f"{crd} is not installed: the API server does not serve {group}. Install it (for cert-manager's kinds, "
        "install cert-manager) on this cluster.",
    )


def _is_default(obj: dict[str, Any], annotations: tuple[str, ...]) -> bool:
    marks = (obj.get("metadata") or {}).get("annotations") or {}
    return any(marks.get(annotation) == "true" for annotation in annotations)


def _check_class(
    gateway: KubeGateway, api_version: str, kind: str, name: str, defaults: tuple[str, ...], setting: str
) -> dict[str, Any]:
    if name:
        try:
            found = _reading(f"{kind} {name}", lambda: gateway.get(api_version, kind, name))
        except _Unknown as unknown:
            return _item(kind, name, None, str(unknown))
        if found is None:
            return _item(
                kind,
                name,
                False,
                f"{kind} {name} does not exist: create it, or change the cluster's {setting}.",
            )
        return _item(kind, name, True, f"{kind} {name} exists.")
    try:
        listed = _reading(f"The default {kind}", lambda: gateway.list(api_version, kind))
    except _Unknown as unknown:
        return _item(kind, "", None, str(unknown))
    marked = sorted(obj["metadata"]["name"] for obj in listed if _is_default(obj, defaults))
    if not marked:
        return _item(
            kind,
            "",
            False,
            f"No {kind} is marked as the cluster default: name one in the cluster's {setting}, or mark one default.",
        )
    return _item(kind, marked[0], True, f"{kind} {marked[0]} is the cluster default.")


def _ready_condition(obj: dict[str, Any]) -> dict[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return {}


def _http01_class(issuer: dict[str, Any]) -> tuple[bool, str]:
    """Does the issuer solve HTTP-01 through an ingress, and with which class?"""
    for solver in ((issuer.get("spec") or {}).get("acme") or {}).get("solvers") or []:
        ingress = ((solver or {}).get("http01") or {}).get("ingress")
        if isinstance(ingress, dict):
            return True, str(ingress.get("ingressClassName") or ingress.get("class") or "")
    return False, ""


def _check_issuer(
    gateway: KubeGateway, name: str, crd_served: bool | None
) -> tuple[dict[str, Any], bool | None, str]:
    if crd_served is False:
        message = (
            f"ClusterIssuer {name} cannot exist: {CLUSTER_ISSUER_CRD} is not installed. Install cert-manager and "
            f"create the ClusterIssuer, or change the cluster's issuer."
        )
        return _item("ClusterIssuer", name, False, message), None, ""
    try:
        issuer = _reading(
            f"ClusterIssuer {name}", lambda: gateway.get("cert-manager.io/v1", "ClusterIssuer", name)
        )
    except _Unknown as unknown:
        return _item("ClusterIssuer", name, None, str(unknown)), None, ""
    if issuer is None:
        if crd_served is None:
            return _item("ClusterIssuer", name, None, f"ClusterIssuer {name} could not be checked."), None, ""
        message = f"ClusterIssuer {name} does not exist: create it, or change the cluster's issuer."
        return _item("ClusterIssuer", name, False, message), None, ""
    http01, ingress_class = _http01_class(issuer)
    ready = _ready_condition(issuer)
    if ready.get("status") == "True":
        message = f"ClusterIssuer {name} exists and is ready."
    else:
        why = ready.get("message") or "it reports no Ready condition yet"
        message = f"ClusterIssuer {name} exists but is not ready: {why}."
    return _item("ClusterIssuer", name, True, message), http01, ingress_class


def _dns(service: dict[str, Any]) -> DnsService:
    metadata, spec = service.get("metadata") or {}, service.get("spec") or {}
    ports = tuple(
        (int(port.get("port", 0)), str(port.get("protocol", "TCP"))) for port in spec.get("ports") or []
    )
    return DnsService(
        namespace=str(metadata.get("namespace", "")),
        name=str(metadata.get("name", "")),
        cluster_ip=str(spec.get("clusterIP", "")),
        ports=ports,
        selector=dict(spec.get("selector") or {}),
    )


def _check_dns(gateway: KubeGateway, location: str) -> tuple[dict[str, Any], DnsService | None]:
    namespace, _, name = location.rpartition("/")
    namespace = namespace or "kube-system"
    try:
        service = _reading(
            f"Service {namespace}/{name}", lambda: gateway.get("v1", "Service", name, namespace)
        )
        if service is None:
            found = _reading(
                "The cluster DNS Service", lambda: gateway.list("v1", "Service", label_selector=DNS_LABEL)
            )
            service = found[0] if found else None
    except _Unknown as unknown:
        return _item("Service", location, None, str(unknown)), None
    if service is None:
        message = (
            f"No cluster DNS Service at {namespace}/{name} nor any Service labelled {DNS_LABEL}: name where the "
            "cluster DNS runs in the cluster's settings."
        )
        return _item("Service", location, False, message), None
    dns = _dns(service)
    where = f"{dns.namespace}/{dns.name}"
    ports = ", ".join(f"{port}/{protocol}" for port, protocol in dns.ports)
    message = f"The cluster DNS answers at {where} ({dns.cluster_ip}, {ports})."
    if where != f"{namespace}/{name}":
        message = (
            f"Not at {namespace}/{name}: the cluster DNS Service is {where} ({dns.cluster_ip}, {ports})."
        )
    return _item("Service", where, True, message), dns


def check_prerequisites(
    gateway: KubeGateway,
    *,
    ingress_class: str = "",
    storage_class: str = "",
    cluster_issuer: str = "",
    crds: Sequence[str] = STACK_CRDS,
    dns_service: str = DEFAULT_DNS_SERVICE,
) -> PrerequisiteReport:
    """Check every prerequisite of a stack on the gateway's cluster (an empty ``cluster_issuer`` skips the issuer)."""
    items = [_check_crd(gateway, crd) for crd in crds]
    items.append(
        _check_class(
            gateway,
            "networking.k8s.io/v1",
            "IngressClass",
            ingress_class,
            DEFAULT_INGRESS_CLASS,
            "ingress class",
        )
    )
    items.append(
        _check_class(
            gateway,
            "storage.k8s.io/v1",
            "StorageClass",
            storage_class,
            DEFAULT_STORAGE_CLASS,
            "storage class",
        )
    )
    http01: bool | None = None
    solver_class = ""
    if cluster_issuer:
        issuer_crd = next((item for item in items if item["name"] == CLUSTER_ISSUER_CRD), None)
        if issuer_crd is None:
            issuer_crd = _check_crd(gateway, CLUSTER_ISSUER_CRD)
            if issuer_crd["present"] is not True:
                items.append(issuer_crd)
        item, http01, solver_class = _check_issuer(gateway, cluster_issuer, issuer_crd["present"])
        items.append(item)
    dns_item, dns = _check_dns(gateway, dns_service)
    items.append(dns_item)
    return PrerequisiteReport(items, http01, solver_class, dns)
