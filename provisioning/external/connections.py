"""How the console reaches a region's shared services as their administrator: the cluster's record, else settings.

A cluster's own fields win; the ``SHARED_*`` settings serve every cluster that leaves them empty, so a provider with
one PostgreSQL and one object store for all its clusters configures them once.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from provisioning.models import Cluster

DEFAULT_TIMEOUT_SECONDS = 5


def timeout_seconds() -> int:
    """Connect timeout for every call to a shared service: a dead service must not stall a worker."""
    return int(getattr(settings, "EXTERNAL_CONNECT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))


def database_admin_url(cluster: Cluster) -> str:
    return cluster.database_admin_url or str(getattr(settings, "SHARED_DATABASE_ADMIN_URL", "") or "")


@dataclass(frozen=True)
class S3Admin:
    """The administrator's view of an S3-compatible object store."""

    endpoint: str
    region: str
    access_key: str
    secret_key: str
    iam: bool

    def __repr__(self) -> str:
        return f"S3Admin(endpoint={self.endpoint!r}, region={self.region!r}, iam={self.iam})"


def s3_admin(cluster: Cluster) -> S3Admin | None:
    """The cluster's object store, or the shared one from settings; None when neither is configured."""
    if cluster.s3_endpoint or cluster.s3_access_key:
        return S3Admin(
            endpoint=cluster.s3_endpoint,
            region=cluster.s3_region or "us-east-1",
            access_key=cluster.s3_access_key,
            secret_key=cluster.s3_secret_key,
            iam=cluster.s3_iam,
        )
    endpoint = str(getattr(settings, "SHARED_S3_ENDPOINT", "") or "")
    if not endpoint:
        return None
    return S3Admin(
        endpoint=endpoint,
        region=str(getattr(settings, "SHARED_S3_REGION", "") or "us-east-1"),
        access_key=str(getattr(settings, "SHARED_S3_ACCESS_KEY", "") or ""),
        secret_key=str(getattr(settings, "SHARED_S3_SECRET_KEY", "") or ""),
        iam=bool(getattr(settings, "SHARED_S3_IAM", False)),
    )


def where(url: str) -> str:
    """``host:port`` of a URL, never its credentials: what messages may show."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or "?"
        return f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "an unparsable address"
