"""Names a registry gets outside the console's database: its namespace, and its share of the shared services.

Pure functions of plain values, so one set of rules serves the model, the service functions and the tests.

- **Shared services** (database, roles, bucket, IAM user) are shared by every cluster of a region and sometimes by
  several consoles, so their names start with what is unique across all of them: the installation id and the
  registry id (``hc_<installation>_<id>``). The tenant's slug and the registry's name follow for support staff; only
  they are shortened to fit a service's limit, so uniqueness never depends on them.
- **Namespaces** are unique per cluster and read ``harbor-<tenant>-<name>``; when that does not fit a DNS label
  (63 characters) the name keeps a readable prefix and ends in a short hash of the tenant and name, never cut
  silently.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

POSTGRES_OWNER_MAX = 61
"""PostgreSQL identifiers are at most 63 bytes and each login role adds ``_a``/``_b`` to the owner's name."""
BUCKET_MAX = 63
"""S3 bucket names: 3 to 63 lower-case letters, digits and hyphens, a letter or digit at each end."""
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3", ".mrap")
DNS_LABEL_MAX = 63
NAMESPACE_HASH_LENGTH = 8


@dataclass(frozen=True)
class ServiceNames:
    """A registry's names on the shared services."""

    database: str
    owner_role: str
    bucket: str
    iam_user: str


def _fit(unique: str, readable: str, separator: str, limit: int) -> str:
    """``unique`` whole, then as much of ``readable`` as fits, without a dangling separator."""
    name = f"{unique}{separator}{readable}"[:limit]
    return name.rstrip(separator) or unique


def service_names(installation: str, registry_id: int, tenant_slug: str, registry_name: str) -> ServiceNames:
    """The names of registry ``registry_id`` of installation ``installation`` on the shared services."""
    readable = f"{tenant_slug}-{registry_name}"
    database = _fit(f"hc_{installation}_{registry_id}", readable.replace("-", "_"), "_", POSTGRES_OWNER_MAX)
    bucket = _fit(f"hc-{installation}-{registry_id}", re.sub("-+", "-", readable), "-", BUCKET_MAX)
    while bucket.endswith(BUCKET_RESERVED_SUFFIXES):
        bucket = bucket[:-1].rstrip("-")
    return ServiceNames(database=database, owner_role=database, bucket=bucket, iam_user=bucket)


def namespace_name(tenant_slug: str, registry_name: str) -> str:
    """``harbor-<tenant>-<name>``, or a readable prefix and a hash of both when that is too long."""
    full = f"harbor-{tenant_slug}-{registry_name}"
    if len(full) <= DNS_LABEL_MAX:
        return full
    digest = hashlib.sha256(f"{tenant_slug}/{registry_name}".encode()).hexdigest()[:NAMESPACE_HASH_LENGTH]
    prefix = full[: DNS_LABEL_MAX - NAMESPACE_HASH_LENGTH - 1].rstrip("-")
    return f"{prefix}-{digest}"
