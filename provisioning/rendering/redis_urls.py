"""Redis connection URLs in the forms Harbor's components parse, one database index per use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote

from provisioning.rendering.names import REDIS_PORT, redis_service_host

if TYPE_CHECKING:
    from provisioning.rendering.spec import CacheSpec, StackSpec

DB_CORE = 0
"""Core's db must be 0: the library Harbor uses cannot select another one."""
DB_JOBSERVICE = 1
DB_REGISTRY = 2
DB_TRIVY = 5
DB_HARBOR = 6
DB_CACHE_LAYER = 7

IDLE_TIMEOUT = "idle_timeout_seconds=30"


@dataclass(frozen=True, slots=True)
class RedisEndpoint:
    """Where and how to reach the tenant's Redis, whether the provider's or the managed one."""

    addresses: tuple[str, ...]
    """``host:port`` items; several only with Sentinel."""
    username: str
    password: str
    tls: bool
    sentinel_master: str

    @property
    def addr(self) -> str:
        return ",".join(self.addresses)


def _with_port(address: str, port: int) -> str:
    address = address.strip()
    if address.startswith("["):
        return address if "]:" in address else f"{address}:{port}"
    return address if ":" in address else f"{address}:{port}"


def redis_endpoint(spec: StackSpec) -> RedisEndpoint:
    cache: CacheSpec = spec.cache
    if cache.mode == "managed":
        return RedisEndpoint(
            addresses=(f"{redis_service_host(spec)}:{REDIS_PORT}",),
            username=cache.username,
            password=cache.password,
            tls=False,
            sentinel_master="",
        )
    hosts = cache.host.split(",") if cache.sentinel_master else [cache.host]
    return RedisEndpoint(
        addresses=tuple(_with_port(host, cache.port) for host in hosts if host.strip()),
        username=cache.username,
        password=cache.password,
        tls=cache.tls,
        sentinel_master=cache.sentinel_master,
    )


def redis_url(
    endpoint: RedisEndpoint, db: int, *, idle_timeout: bool = True, credentials: bool = True
) -> str:
    """``redis://``, ``rediss://`` (TLS) or ``redis+sentinel://`` URL for database ``db``.

    Username and password are percent-encoded; ``credentials=False`` leaves them out (for files that are
    not secret, where the credentialled URL comes from a Secret-backed environment variable).
    """
    if endpoint.sentinel_master:
        scheme = "redis+sentinel"
        path = f"/{quote(endpoint.sentinel_master, safe='')}/{db}"
    else:
        scheme = "rediss" if endpoint.tls else "redis"
        path = f"/{db}"
    userinfo = ""
    if credentials and endpoint.username:
        userinfo = f"{quote(endpoint.username, safe='')}:{quote(endpoint.password, safe='')}@"
    elif credentials and endpoint.password:
        userinfo = f":{quote(endpoint.password, safe='')}@"
    query = f"?{IDLE_TIMEOUT}" if idle_timeout else ""
    return f"{scheme}://{userinfo}{endpoint.addr}{path}{query}"
