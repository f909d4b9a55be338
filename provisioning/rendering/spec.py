"""Plain-data description of one tenant's Harbor stack: the only input of rendering.

The reconciliation engine maps database rows onto these frozen dataclasses. Construction validates
what rendering relies on (names, lengths, quantities, CIDRs, the Harbor minor) and raises ``ValueError``
with a sentence a person can act on, so a bad row fails as ``INVALID_SPEC`` before anything is applied.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from provisioning.rendering.quantities import quantity
from provisioning.rendering.versions import harbor_release

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_ACL_USER = re.compile(r"^[A-Za-z0-9_.@-]+$")
_INSTALLATION = re.compile(r"^[a-z][a-z0-9]{3,11}$")
_LABEL_KEY_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

MAX_INSTANCE_LENGTH = 40
"""Keeps ``<instance>-registry-htpasswd`` and StatefulSet pod names inside Kubernetes' 63-character limits."""

CacheMode = Literal["provider", "managed"]
StorageKind = Literal["s3", "swift"]
SslMode = Literal["disable", "require", "verify-ca", "verify-full"]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _check_quantity(value: str, what: str) -> None:
    try:
        quantity(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a Kubernetes quantity.") from None


def _check_cidr(cidr: str, what: str) -> None:
    try:
        ipaddress.ip_network(cidr)
    except ValueError as error:
        raise ValueError(f"{what} {cidr!r} is not a network: {error}.") from None


def _check_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    valid_prefix = not prefix or (len(prefix) <= 253 and bool(_DNS_SUBDOMAIN.match(prefix)))
    return valid_prefix and 0 < len(name) <= 63 and bool(_LABEL_KEY_NAME.match(name))


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """Replicas and container resources of one Harbor component (quantities as Kubernetes strings)."""

    replicas: int = 1
    cpu_request: str = "100m"
    cpu_limit: str = "1"
    memory_request: str = "256Mi"
    memory_limit: str = "1Gi"

    def __post_init__(self) -> None:
        _require(0 <= self.replicas <= 50, f"replicas must be between 0 and 50, not {self.replicas}.")
        for name in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
            _check_quantity(getattr(self, name), name)
        for resource in ("cpu", "memory"):
            request, limit = getattr(self, f"{resource}_request"), getattr(self, f"{resource}_limit")
            _require(
                quantity(request) <= quantity(limit),
                f"{resource} request {request} is above its limit {limit}: a real API server refuses such a pod.",
            )


@dataclass(frozen=True, slots=True)
class ComponentSet:
    """One ``ComponentSpec`` per component (registryctl shares the registry pod: its replicas are ignored)."""

    core: ComponentSpec = ComponentSpec()
    portal: ComponentSpec = ComponentSpec(
        cpu_request="50m", cpu_limit="500m", memory_request="64Mi", memory_limit="256Mi"
    )
    registry: ComponentSpec = ComponentSpec()
    registryctl: ComponentSpec = ComponentSpec(
        cpu_request="50m", cpu_limit="500m", memory_request="64Mi", memory_limit="256Mi"
    )
    jobservice: ComponentSpec = ComponentSpec()
    trivy: ComponentSpec = ComponentSpec(
        cpu_request="200m", cpu_limit="1", memory_request="512Mi", memory_limit="1Gi"
    )
    exporter: ComponentSpec = ComponentSpec(
        cpu_request="50m", cpu_limit="500m", memory_request="64Mi", memory_limit="256Mi"
    )


@dataclass(frozen=True, slots=True)
class DatabaseSpec:
    """The tenant's PostgreSQL database (one database per Harbor since 2.9)."""

    host: str
    username: str
    password: str
    port: int = 5432
    name: str = "registry"
    sslmode: SslMode = "require"
    max_idle_conns: int = 50
    max_open_conns: int = 100
    conn_max_lifetime: str = "5m"
    conn_max_idle_time: str = "0"

    def __post_init__(self) -> None:
        _require(bool(self.host), "database host is empty.")
        _require(0 < self.port < 65536, f"database port {self.port} is out of range.")
        _require(
            self.sslmode in ("disable", "require", "verify-ca", "verify-full"),
            f"database sslmode {self.sslmode!r} is not one of disable, require, verify-ca, verify-full.",
        )


@dataclass(frozen=True, slots=True)
class CacheSpec:
    """The tenant's own Redis: from the provider's Redis service, or a small one run in the namespace.

    ``provider``: ``host`` (for Sentinel a comma-separated ``h1:p1,h2:p2`` list; a host without a port gets
    ``port``), ``username`` (a Redis ACL user; the registry can use it from Harbor 2.15 only), ``password``,
    ``tls``, ``sentinel_master``.
    ``managed``: the console runs Redis as a StatefulSet reached at the Service ``<instance>-redis:6379``;
    ``host``/``port``/``tls``/``sentinel_master`` are ignored and ``password`` (and ``username``, if set,
    as an ACL user) protect it. While a rotation is under way ``previous_password`` is accepted too, so pods not yet
    rolled keep their cache when the Redis pod restarts with the new configuration; empty once it completes.
    """

    mode: CacheMode
    password: str
    host: str = ""
    port: int = 6379
    username: str = ""
    tls: bool = False
    sentinel_master: str = ""
    image: str = "docker.io/library/redis:7.4-alpine"
    persistence_size: str = "1Gi"
    maxmemory: str = "256mb"
    resources: ComponentSpec = ComponentSpec(
        cpu_request="50m", cpu_limit="500m", memory_request="128Mi", memory_limit="384Mi"
    )
    previous_password: str = ""

    def __post_init__(self) -> None:
        _require(
            self.mode in ("provider", "managed"), f"cache mode {self.mode!r} is not provider or managed."
        )
        _require(bool(self.password), "cache password is empty: every tenant's Redis needs its own password.")
        _require(0 < self.port < 65536, f"cache port {self.port} is out of range.")
        if self.mode == "provider":
            _require(bool(self.host), "cache host is empty for a provider Redis.")
            _require(
                not (self.tls and self.sentinel_master),
                "Harbor has no URL form for Redis Sentinel over TLS: choose one of tls or sentinel_master.",
            )
        else:
            _check_quantity(self.persistence_size, "cache persistence_size")
            _require(
                not self.username or bool(_ACL_USER.match(self.username)),
                f"Redis ACL user name {self.username!r} may only use letters, digits and _.@-.",
            )
            _require(
                bool(re.match(r"^\d+(b|kb|mb|gb)?$", self.maxmemory.lower())),
                f"cache maxmemory {self.maxmemory!r} is not a Redis size such as 256mb.",
            )


@dataclass(frozen=True, slots=True)
class StorageSpec:
    """Object storage for images: S3 (``kind="s3"``) or OpenStack Swift (``kind="swift"``)."""

    kind: StorageKind
    # s3
    endpoint: str = ""
    region: str = ""
    bucket: str = ""
    access_key: str = ""
    secret_key: str = ""
    secure: bool = True
    v4auth: bool = True
    root_directory: str = ""
    # swift
    auth_url: str = ""
    username: str = ""
    password: str = ""
    container: str = ""
    tenant: str = ""
    domain: str = ""
    auth_version: int = 3

    def __post_init__(self) -> None:
        if self.kind == "s3":
            for name in ("region", "bucket", "access_key", "secret_key"):
                _require(bool(getattr(self, name)), f"s3 storage needs {name}.")
        elif self.kind == "swift":
            for name in ("auth_url", "username", "password", "container"):
                _require(bool(getattr(self, name)), f"swift storage needs {name}.")
            _require(
                self.auth_version in (1, 2, 3), f"swift auth_version {self.auth_version} is not 1, 2 or 3."
            )
        else:
            raise ValueError(f"storage kind {self.kind!r} is not s3 or swift.")


@dataclass(frozen=True, slots=True)
class HarborSecrets:
    """Generated once by the console, stored encrypted, changed only by an explicit rotation.

    ``registry_htpasswd`` is the bcrypt line for ``harbor_registry_user`` computed by the caller: rendering
    is deterministic and never generates a salt.
    """

    core_secret: str
    jobservice_secret: str
    registry_http_secret: str
    csrf_key: str
    secret_key: str
    token_private_key: str
    token_certificate: str
    admin_password: str
    registry_password: str
    registry_htpasswd: str

    def __post_init__(self) -> None:
        _require(len(self.core_secret) == 16, "core_secret must be 16 characters.")
        _require(len(self.csrf_key) == 32, "csrf_key must be 32 characters.")
        _require(len(self.secret_key) == 16, "secret_key (Harbor's encryption key) must be 16 characters.")
        for name in ("jobservice_secret", "registry_http_secret", "admin_password", "registry_password"):
            _require(bool(getattr(self, name)), f"{name} is empty.")
        _require("PRIVATE KEY-----" in self.token_private_key, "token_private_key is not a PEM private key.")
        _require("BEGIN CERTIFICATE" in self.token_certificate, "token_certificate is not a PEM certificate.")
        _require(
            self.registry_htpasswd.startswith("harbor_registry_user:$2"),
            "registry_htpasswd must be a bcrypt htpasswd line for harbor_registry_user.",
        )


@dataclass(frozen=True, slots=True)
class StackSpec:
    """Everything rendering needs to produce one tenant's complete Harbor stack."""

    registry_id: int
    instance: str
    namespace: str
    tenant: str
    harbor_version: str
    hostname: str
    external_url: str
    database: DatabaseSpec
    cache: CacheSpec
    storage: StorageSpec
    secrets: HarborSecrets
    cert_issuer: str
    installation: str
    """This console installation's id, in every ownership label."""
    components: ComponentSet = ComponentSet()
    trivy_enabled: bool = True
    ha: bool = False
    suspended: bool = False
    """Every workload scaled to zero; everything else (claims included) stays."""
    storage_quota_bytes: int = 0
    parallel_request_limit: int = 100
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    ingress_class: str = "nginx"
    ingress_profile: str = "nginx"
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"
    dns_namespace: str = "kube-system"
    dns_pod_labels: Mapping[str, str] = field(default_factory=lambda: {"k8s-app": "kube-dns"})
    """Where the cluster DNS runs: egress on 53/UDP and 53/TCP goes to these pods (all pods of the namespace when
    empty)."""
    acme_http01: bool = False
    """The issuer solves HTTP-01: cert-manager's solver pod runs in the namespace and takes the ingress
    controller's requests."""
    storage_class: str = ""
    trivy_storage: str = "5Gi"
    image_registry: str = "docker.io/goharbor"
    external_addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """CIDRs of each external host name the stack names (database, Redis, object storage), resolved by the
    caller; IP literals need no entry."""
    egress_cidrs: tuple[str, ...] = ()
    """CIDRs of the shared services, for addresses known only at run time (the master a Redis Sentinel names)."""
    upstream_egress_cidrs: tuple[str, ...] = ()
    """Where core, jobservice and trivy may reach upstream registries and the Trivy databases (private ranges
    inside a CIDR are excepted)."""
    upstream_egress_ports: tuple[int, ...] = (443,)
    log_level: str = "info"
    redis_cache_databases: bool = False
    """Also give core ``_REDIS_URL_HARBOR`` (db 6) and ``_REDIS_URL_CACHE_LAYER`` (db 7)."""
    trivy_db_repository: str = "mirror.gcr.io/aquasec/trivy-db,ghcr.io/aquasecurity/trivy-db"
    trivy_java_db_repository: str = "mirror.gcr.io/aquasec/trivy-java-db,ghcr.io/aquasecurity/trivy-java-db"

    def __post_init__(self) -> None:
        _require(self.registry_id > 0, "registry_id must be positive.")
        _require(
            len(self.instance) <= MAX_INSTANCE_LENGTH and bool(_DNS_1035_LABEL.match(self.instance)),
            f"instance {self.instance!r} must be a DNS-1035 label of at most {MAX_INSTANCE_LENGTH} chars.",
        )
        _require(
            bool(_INSTALLATION.match(self.installation)),
            f"installation {self.installation!r} is not 4 to 12 lowercase letters or digits, a letter first.",
        )
        for name in ("namespace", "ingress_namespace", "monitoring_namespace", "dns_namespace"):
            value = getattr(self, name)
            _require(
                len(value) <= 63 and bool(_DNS_LABEL.match(value)), f"{name} {value!r} is not a DNS label."
            )
        _require(
            len(self.tenant) <= 63 and bool(_LABEL_VALUE.match(self.tenant)) and bool(self.tenant),
            f"tenant {self.tenant!r} is not a valid label value.",
        )
        harbor_release(self.harbor_version)
        _require(
            len(self.hostname) <= 253 and bool(_DNS_SUBDOMAIN.match(self.hostname)),
            f"hostname {self.hostname!r} is not a DNS name.",
        )
        _require(
            self.external_url.rstrip("/") == f"https://{self.hostname}",
            f"external_url must be https://{self.hostname}, not {self.external_url!r}.",
        )
        _require(bool(self.cert_issuer), "cert_issuer (a cert-manager ClusterIssuer) is empty.")
        _require(self.parallel_request_limit > 0, "parallel_request_limit must be positive.")
        _require(self.storage_quota_bytes >= 0, "storage_quota_bytes must not be negative.")
        _check_quantity(self.trivy_storage, "trivy_storage")
        _require(
            self.log_level in ("debug", "info", "warning", "error", "fatal"),
            f"log_level {self.log_level!r} is not debug, info, warning, error or fatal.",
        )
        for cidr in (*self.egress_cidrs, *self.upstream_egress_cidrs):
            _check_cidr(cidr, "egress CIDR")
        for host, cidrs in self.external_addresses.items():
            _require(bool(cidrs), f"no address is given for host {host!r}.")
            for cidr in cidrs:
                _check_cidr(cidr, f"address of {host}")
        for port in self.upstream_egress_ports:
            _require(0 < port < 65536, f"upstream egress port {port} is out of range.")
        for key, value in self.dns_pod_labels.items():
            _require(
                _check_label_key(key) and bool(_LABEL_VALUE.match(value)),
                f"DNS pod label {key}={value} is not a valid label.",
            )
        if self.cache.mode == "provider" and self.cache.sentinel_master:
            _require(
                bool(self.egress_cidrs),
                "a Redis Sentinel names its master's address only at run time: give the shared services' CIDRs "
                "(the cluster's egress CIDRs) so the stack may reach it.",
            )
        for key, value in self.node_selector.items():
            _require(
                bool(key) and bool(_LABEL_VALUE.match(value)), f"node selector {key}={value} is not valid."
            )
        if self.cache.username:
            _require(
                harbor_release(self.harbor_version).registry_redis_username,
                f"Harbor {self.harbor_version}'s registry cannot log in to Redis as an ACL user "
                f"({self.cache.username!r}); use Harbor 2.15 or later, or the default user.",
            )
