"""The table of API kinds the emulator serves: adding a kind is one line in ``KINDS``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """One served resource: where it lives in the API and how it behaves."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    status: bool = False
    """Has a ``/status`` subresource: resource writes ignore ``.status``; status writes change only it."""
    custom: bool = False
    """Served like a CustomResourceDefinition: list items carry ``apiVersion`` and ``kind``."""
    short_names: tuple[str, ...] = ()
    field_labels: tuple[str, ...] = ()
    """Field-selector labels beyond ``metadata.name`` and ``metadata.namespace``."""
    name_format: str = "subdomain"
    """How names are validated: ``subdomain`` (DNS-1123 subdomain), ``label`` (DNS-1123 label) or ``path``."""
    crd: str = ""
    """The CustomResourceDefinition that must exist for the kind to be served (``certificates.cert-manager.io``)."""
    orphans_by_default: bool = False
    """A delete without a propagation policy orphans the dependents (batch/v1 Jobs keep their pods)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def qualified_plural(self) -> str:
        """``deployments.apps`` as used in apiserver messages (``configmaps`` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_version(self) -> tuple[str, str]:
        return (self.group, self.version)

    @property
    def url_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.uid",
    "reason",
    "type",
)

_CERT_MANAGER = "cert-manager.io"

KINDS: tuple[Kind, ...] = (
    Kind(
        "",
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        status=True,
        short_names=("ns",),
        name_format="label",
    ),
    Kind("", "v1", "Secret", "secrets", field_labels=("type",)),
    Kind("", "v1", "ConfigMap", "configmaps", short_names=("cm",)),
    Kind("", "v1", "Service", "services", status=True, short_names=("svc",), name_format="label"),
    Kind("", "v1", "ServiceAccount", "serviceaccounts", short_names=("sa",)),
    Kind("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", status=True, short_names=("pvc",)),
    Kind("", "v1", "ResourceQuota", "resourcequotas", status=True, short_names=("quota",)),
    Kind("", "v1", "LimitRange", "limitranges", short_names=("limits",)),
    Kind(
        "",
        "v1",
        "Pod",
        "pods",
        status=True,
        short_names=("po",),
        field_labels=("status.phase", "spec.nodeName"),
    ),
    Kind("", "v1", "Event", "events", short_names=("ev",), field_labels=_EVENT_FIELDS),
    Kind("apps", "v1", "Deployment", "deployments", status=True, short_names=("deploy",)),
    Kind("apps", "v1", "ReplicaSet", "replicasets", status=True, short_names=("rs",)),
    Kind("apps", "v1", "StatefulSet", "statefulsets", status=True, short_names=("sts",)),
    Kind("apps", "v1", "DaemonSet", "daemonsets", status=True, short_names=("ds",)),
    Kind("networking.k8s.io", "v1", "Ingress", "ingresses", status=True, short_names=("ing",)),
    Kind("networking.k8s.io", "v1", "IngressClass", "ingressclasses", namespaced=False),
    Kind("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", short_names=("netpol",)),
    Kind("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", status=True, short_names=("pdb",)),
    Kind("batch", "v1", "Job", "jobs", status=True, orphans_by_default=True),
    Kind("storage.k8s.io", "v1", "StorageClass", "storageclasses", namespaced=False, short_names=("sc",)),
    Kind(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        status=True,
        short_names=("crd", "crds"),
    ),
    Kind(
        _CERT_MANAGER,
        "v1",
        "Certificate",
        "certificates",
        status=True,
        custom=True,
        short_names=("cert", "certs"),
        crd=f"certificates.{_CERT_MANAGER}",
    ),
    Kind(
        _CERT_MANAGER,
        "v1",
        "Issuer",
        "issuers",
        status=True,
        custom=True,
        crd=f"issuers.{_CERT_MANAGER}",
    ),
    Kind(
        _CERT_MANAGER,
        "v1",
        "ClusterIssuer",
        "clusterissuers",
        namespaced=False,
        status=True,
        custom=True,
        crd=f"clusterissuers.{_CERT_MANAGER}",
    ),
    Kind("rbac.authorization.k8s.io", "v1", "Role", "roles", name_format="path"),
    Kind("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", name_format="path"),
)

_BY_NAME = {kind.kind: kind for kind in KINDS}
NAMESPACE = _BY_NAME["Namespace"]
POD = _BY_NAME["Pod"]
EVENT = _BY_NAME["Event"]
DEPLOYMENT = _BY_NAME["Deployment"]
REPLICA_SET = _BY_NAME["ReplicaSet"]
STATEFUL_SET = _BY_NAME["StatefulSet"]
JOB = _BY_NAME["Job"]
CLAIM = _BY_NAME["PersistentVolumeClaim"]
QUOTA = _BY_NAME["ResourceQuota"]
LIMIT_RANGE = _BY_NAME["LimitRange"]
STORAGE_CLASS = _BY_NAME["StorageClass"]
INGRESS_CLASS = _BY_NAME["IngressClass"]
CRD = _BY_NAME["CustomResourceDefinition"]
CERTIFICATE = _BY_NAME["Certificate"]
SERVICE = _BY_NAME["Service"]


def kind_named(name: str) -> Kind:
    """The kind called ``name`` exactly (``Deployment``); a ``KeyError`` for a kind the emulator lacks."""
    return _BY_NAME[name]


def group_versions(kinds: Iterable[Kind] = KINDS) -> dict[str, list[str]]:
    """Versions per API group among ``kinds``, core group as ``""``, in table order."""
    result: dict[str, list[str]] = {}
    for kind in kinds:
        versions = result.setdefault(kind.group, [])
        if kind.version not in versions:
            versions.append(kind.version)
    return result


def kinds_in(group: str, version: str, kinds: Iterable[Kind] = KINDS) -> list[Kind]:
    return [k for k in kinds if k.group == group and k.version == version]


def find_by_plural(group: str, version: str, plural: str) -> Kind | None:
    for kind in KINDS:
        if kind.group == group and kind.version == version and kind.plural == plural:
            return kind
    return None


def find_by_kind(name: str, api_version: str | None = None) -> Kind | None:
    """Look a kind up by its name (``Deployment``, case-insensitive), optionally pinned to an apiVersion."""
    for kind in KINDS:
        if kind.kind.lower() == name.lower() and (api_version is None or kind.api_version == api_version):
            return kind
    return None
