"""Helpers of the external-services tests: registries on clusters wired to the real services of the fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from provisioning.choices import CacheMode
from provisioning.models import DatabaseBinding, Registry
from tests import factories

if TYPE_CHECKING:
    from tests.fixtures.services import S3Server


def registry_with(cache_mode: str = CacheMode.MANAGED, **cluster_fields: Any) -> Registry:
    """A registry (made through the service function) on a new cluster holding ``cluster_fields``."""
    return factories.registry(cluster=factories.cluster(**cluster_fields), cache_mode=cache_mode)


def s3_fields(s3: S3Server, *, iam: bool = True) -> dict[str, Any]:
    return {
        "s3_endpoint": s3.endpoint,
        "s3_region": s3.region,
        "s3_access_key": s3.access_key,
        "s3_secret_key": s3.secret_key,
        "s3_iam": iam,
    }


def connect_as(
    binding: DatabaseBinding,
    *,
    user: str | None = None,
    password: str | None = None,
    dbname: str | None = None,
) -> psycopg.Connection[Any]:
    """Connect the way Harbor does: as the tenant's login role, to its database."""
    return psycopg.connect(
        host=binding.host,
        port=binding.port,
        dbname=dbname or binding.name,
        user=user or binding.username,
        password=password if password is not None else binding.password,
        connect_timeout=3,
    )


def fresh(binding: Any) -> Any:
    """The binding as stored now."""
    return type(binding).objects.get(pk=binding.pk)


@pytest.fixture
def pg_registry(db: None, postgres_admin_url: str) -> Registry:
    return registry_with(database_admin_url=postgres_admin_url)
