"""Specs for rendering tests: plain data, no database (these tests never ask for the ``db`` fixture)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from provisioning.rendering import (
    CacheSpec,
    ComponentSet,
    ComponentSpec,
    DatabaseSpec,
    HarborSecrets,
    StackSpec,
    StorageSpec,
)

VERSIONS = ("2.13.5", "2.14.4", "2.15.2")

TOKEN_KEY = (
    "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ7test0nly0key0material0for0tests0000000\n"
    "-----END PRIVATE KEY-----\n"
)
TOKEN_CERT = (
    "-----BEGIN CERTIFICATE-----\nMIIBtestcertificate0for0rendering0tests0only000000000000000000\n"
    "-----END CERTIFICATE-----\n"
)
HTPASSWD = "harbor_registry_user:$2b$10$trFNCDbVI2oMqTPJf2EHyOwiIdqvgqFCDUkQsUATJfepqnt1z9fS2"

SECRETS = HarborSecrets(
    core_secret="CoreSecret0123ab",
    jobservice_secret="JobserviceSecret0123",
    registry_http_secret="RegistryHttpSecret01",
    csrf_key="CsrfKey0123456789abcdefghijklmno",
    secret_key="EncryptionKey016",
    token_private_key=TOKEN_KEY,
    token_certificate=TOKEN_CERT,
    admin_password="Admin-Pass-Word-1",
    registry_password="Registry-Pass-1",
    registry_htpasswd=HTPASSWD,
)

S3 = StorageSpec(
    kind="s3",
    endpoint="https://s3.gra.io.cloud.example:443",
    region="gra",
    bucket="tenant-acme-registry",
    access_key="AKIAEXAMPLEACCESS",
    secret_key="S3-Secret-Key-Value-xyz",
    root_directory="/harbor",
)
SWIFT = StorageSpec(
    kind="swift",
    auth_url="https://auth.cloud.example:5000/v3",
    username="swift-user",
    password="Swift-Pass-Value-abc",
    container="tenant-acme-registry",
    region="GRA",
    tenant="acme-project",
    domain="Default",
)
PROVIDER_CACHE = CacheSpec(
    mode="provider", host="redis-acme.db.example", port=6380, password="Cache-Pass/Value#1"
)
MANAGED_CACHE = CacheSpec(mode="managed", password="Managed-Redis-Pass-9")


ADDRESSES = {
    "pg-acme.db.example": ("10.20.1.5/32",),
    "redis-acme.db.example": ("10.20.2.7/32", "10.20.2.8/32"),
    "s3.gra.io.cloud.example": ("198.51.100.20/32",),
    "auth.cloud.example": ("198.51.100.30/32",),
    "pg-other.db.example": ("10.20.1.6/32",),
    "redis.example": ("10.20.2.9/32",),
    "r.example": ("10.20.2.10/32",),
    "s1": ("10.20.3.1/32",),
    "s2": ("10.20.3.2/32",),
}
"""Where the external hosts of these specs live, as ``build_spec`` in reconciliation would have resolved them."""


def default_database() -> DatabaseSpec:
    return DatabaseSpec(
        host="pg-acme.db.example", port=5432, name="registry", username="acme", password="Db-Pass-Value-7"
    )


def build_spec(**overrides: Any) -> StackSpec:
    """A complete spec; keyword arguments replace its fields."""
    base = StackSpec(
        registry_id=42,
        instance="harbor",
        namespace="tenant-acme",
        tenant="acme",
        harbor_version="2.14.4",
        hostname="acme.registry.example.com",
        external_url="https://acme.registry.example.com",
        database=default_database(),
        cache=PROVIDER_CACHE,
        storage=S3,
        secrets=SECRETS,
        cert_issuer="letsencrypt-prod",
        installation="hctest01",
        components=ComponentSet(core=ComponentSpec(replicas=2)),
        node_selector={"node-role.example.com/tenant": "true"},
        tolerations=({"key": "dedicated", "operator": "Equal", "value": "registry", "effect": "NoSchedule"},),
        storage_class="csi-cinder-high-speed",
        egress_cidrs=("10.20.0.0/16", "192.0.2.10/32"),
        external_addresses=ADDRESSES,
        upstream_egress_cidrs=("0.0.0.0/0", "::/0"),
        acme_http01=True,
        storage_quota_bytes=107374182400,
    )
    return replace(base, **overrides)


def secret_values(spec: StackSpec) -> list[str]:
    """Every secret value a spec carries."""
    values = [getattr(spec.secrets, name) for name in spec.secrets.__dataclass_fields__]
    values += [spec.database.password, spec.cache.password]
    values += [spec.storage.access_key, spec.storage.secret_key, spec.storage.password]
    return [value for value in values if value]
