"""Supported Harbor minors: 2.13 is the base, each later minor is a small difference on top of it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

PROXY_CACHE_TYPES_2_13 = (
    "docker-hub,harbor,azure-acr,aws-ecr,google-gcr,quay,docker-registry,github-ghcr,jfrog-artifactory"
)
PROXY_CACHE_TYPES_2_14 = (
    "docker-hub,harbor,azure-acr,aws-ecr,google-gcr,docker-registry,github-ghcr,jfrog-artifactory"
)
REPLICATION_ADAPTERS_2_14 = (
    "ali-acr,aws-ecr,azure-acr,docker-hub,docker-registry,github-ghcr,google-gcr,harbor,huawei-SWR,"
    "jfrog-artifactory,tencent-tcr,volcengine-cr"
)


@dataclass(frozen=True, slots=True)
class HarborRelease:
    """What rendering must do differently for one Harbor minor."""

    minor: str
    version: str = ""
    proxy_cache_types: str = PROXY_CACHE_TYPES_2_13
    replication_adapter_whitelist: str = ""
    """Core env ``REPLICATION_ADAPTER_WHITELIST`` (2.14+); empty means the key is absent."""
    jobservice_log_level_env: bool = False
    """Jobservice reads ``LOG_LEVEL`` from its environment (2.14+)."""
    core_sync_quota: bool = True
    """Core env ``SYNC_QUOTA`` (removed in 2.15)."""
    registry_redis_username: bool = False
    """Registry ``config.yml`` accepts ``redis.username`` (Redis ACL users, 2.15+)."""
    trivy_db_repository_env: bool = False
    """Trivy adapter reads ``SCANNER_TRIVY_DB_REPOSITORY`` / ``SCANNER_TRIVY_JAVA_DB_REPOSITORY`` (2.15+)."""


_V2_13 = HarborRelease(minor="2.13")
_V2_14 = replace(
    _V2_13,
    minor="2.14",
    proxy_cache_types=PROXY_CACHE_TYPES_2_14,
    replication_adapter_whitelist=REPLICATION_ADAPTERS_2_14,
    jobservice_log_level_env=True,
)
_V2_15 = replace(
    _V2_14,
    minor="2.15",
    core_sync_quota=False,
    registry_redis_username=True,
    trivy_db_repository_env=True,
)

RELEASES: dict[str, HarborRelease] = {release.minor: release for release in (_V2_13, _V2_14, _V2_15)}
SUPPORTED_MINORS: tuple[str, ...] = tuple(RELEASES)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)$")


@lru_cache(maxsize=64)
def harbor_release(version: str) -> HarborRelease:
    """Return the release profile of a full Harbor version such as ``"2.14.4"``.

    Raises ``ValueError`` naming the supported minors when the version is malformed or its minor unknown.
    """
    match = _VERSION.match(version)
    supported = ", ".join(SUPPORTED_MINORS)
    if match is None:
        raise ValueError(
            f"Harbor version {version!r} is not of the form 2.14.4; supported minors: {supported}."
        )
    major, minor, patch = match.groups()
    profile = RELEASES.get(f"{int(major)}.{int(minor)}")
    if profile is None:
        raise ValueError(f"Harbor {int(major)}.{int(minor)} is not supported; supported minors: {supported}.")
    return replace(profile, version=f"{int(major)}.{int(minor)}.{int(patch)}")


def check_upgrade(current: str, target: str) -> None:
    """Refuse what Harbor does not support: a downgrade, or an upgrade from further than two minors back.

    Both versions must be supported ones; the same version, or a newer patch, is always allowed.
    """
    old, new = harbor_release(current), harbor_release(target)
    old_key = tuple(int(part) for part in old.version.split("."))
    new_key = tuple(int(part) for part in new.version.split("."))
    if new_key < old_key:
        raise ValueError(f"Harbor cannot be downgraded from {old.version} to {new.version}.")
    if SUPPORTED_MINORS.index(new.minor) - SUPPORTED_MINORS.index(old.minor) > 2:
        raise ValueError(
            f"Harbor {new.minor} upgrades only from the two previous minors, not from {old.minor}."
        )
