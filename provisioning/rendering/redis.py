"""Managed Redis: a small single-replica Redis the console runs in the tenant's namespace.

Harbor core must use db 0 and has no key prefix, and Redis ACLs cannot fence databases, so two Harbors
never share one Redis: when the provider offers no dedicated instance, each tenant gets this one.
The password is stored only as a SHA-256 ACL hash in ``redis.conf``; during a rotation the previous password's
hash is listed beside it (a Redis user may hold several passwords), so a restart of the Redis pod never locks out
the pods still rolling.
"""

from __future__ import annotations

import hashlib

from provisioning.rendering.names import REDIS, REDIS_PORT, object_name
from provisioning.rendering.objects import Checksums, Object, secret, service
from provisioning.rendering.pods import (
    REDIS_UID,
    container,
    container_port,
    mount,
    pod_template,
    secret_volume,
    stateful_set,
    tcp_probe,
)
from provisioning.rendering.spec import StackSpec


def password_hashes(spec: StackSpec) -> str:
    """``#<sha256>`` of the password, then of the previous one while a rotation is under way."""
    cache = spec.cache
    passwords = [cache.password]
    if cache.previous_password and cache.previous_password != cache.password:
        passwords.append(cache.previous_password)
    return " ".join(f"#{hashlib.sha256(password.encode()).hexdigest()}" for password in passwords)


def redis_conf(spec: StackSpec) -> str:
    cache = spec.cache
    hashes = password_hashes(spec)
    lines = [
        "bind * -::*",
        f"port {REDIS_PORT}",
        "protected-mode yes",
        "dir /data",
        "appendonly yes",
        "save 900 1",
        f"maxmemory {cache.maxmemory}",
        "maxmemory-policy volatile-lru",
    ]
    if cache.username:
        lines += ["user default off", f"user {cache.username} on {hashes} ~* &* +@all"]
    else:
        lines.append(f"user default on {hashes} ~* &* +@all")
    return "\n".join(lines) + "\n"


def render_redis_secret(spec: StackSpec) -> Object:
    """``<instance>-redis``: ``redis.conf`` (its ACL line carries the password hash)."""
    return secret(spec, REDIS, object_name(spec, REDIS), {"redis.conf": redis_conf(spec)})


def render_redis_statefulset(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, REDIS)
    redis = container(
        "redis",
        spec.cache.image,
        REDIS,
        spec.cache.resources,
        command=["redis-server", "/etc/redis/redis.conf"],
        ports=[container_port("redis", REDIS_PORT)],
        mounts=[mount("config", "/etc/redis", read_only=True), mount("data", "/data", read_only=False)],
        liveness=tcp_probe("redis", initial_delay=15, failure=5),
        readiness=tcp_probe("redis", initial_delay=2, failure=3),
    )
    template = pod_template(spec, REDIS, [redis], [secret_volume("config", name)], checksums, uid=REDIS_UID)
    return stateful_set(spec, REDIS, name, 1, template, ("data", spec.cache.persistence_size))


def render_redis_service(spec: StackSpec) -> Object:
    return service(spec, REDIS, object_name(spec, REDIS), [("redis", REDIS_PORT, "redis")])
