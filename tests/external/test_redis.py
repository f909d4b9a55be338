"""A tenant's Redis: each tenant's own instance, checked with AUTH/PING/INFO, rotated by ACL, emptied on purge."""

from __future__ import annotations

import pytest
import redis as redis_lib

from provisioning.choices import BindingStatus, CacheMode, ComponentKind, WhoseMove
from provisioning.external import (
    check_dependencies,
    complete_rotations,
    prepare_dependencies,
    purge_dependencies,
)
from provisioning.external.base import RotationNotSupported
from provisioning.external.redis import ProviderRedis, managed_host
from provisioning.models import CacheBinding, Component
from provisioning.rendering.redis_urls import DB_CORE, DB_JOBSERVICE, RedisEndpoint, redis_url
from tests.external.conftest import fresh, registry_with

pytestmark = pytest.mark.django_db


def provider_cache(server, **fields) -> CacheBinding:
    """A registry whose cache is the given provider Redis, recorded the way staff or automation record it."""
    registry = registry_with(cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    cache.host, cache.port, cache.password = server.host, server.port, server.password
    cache.username = server.username
    for name, value in fields.items():
        setattr(cache, name, value)
    cache.save()
    return cache


def test_a_tenants_redis_credentials_are_refused_by_another_tenants_redis(redis_server):
    first, second = redis_server(), redis_server(acl_user="tenant-two")
    mine, theirs = provider_cache(first), provider_cache(second)

    prepare_dependencies(mine.registry)
    prepare_dependencies(theirs.registry)

    assert fresh(mine).status == BindingStatus.OK and fresh(theirs).status == BindingStatus.OK
    with pytest.raises(redis_lib.AuthenticationError):
        second.client(username="", password=first.password).ping()
    with pytest.raises(redis_lib.AuthenticationError):
        first.client(username="tenant-two", password=second.password).ping()


def test_check_records_latency_version_and_memory(redis_server):
    server = redis_server(maxmemory="64mb")
    cache = provider_cache(server)

    report = check_dependencies(cache.registry)

    checked = fresh(cache)
    assert report.item("cache").ok, report.message
    assert checked.latency_ms is not None and checked.server_version.startswith("7.")
    assert checked.maxmemory_bytes == 64 * 1024 * 1024 and checked.used_memory_bytes > 0
    assert f"reachable at 127.0.0.1:{server.port}" in checked.status_message


def test_a_redis_near_its_memory_limit_is_degraded_but_does_not_hold_the_rollout(redis_server):
    server = redis_server(maxmemory="3mb", extra="maxmemory-policy noeviction")
    filler = server.client()
    chunk = b"x" * 65536
    try:
        for n in range(200):
            filler.set(f"fill:{n}", chunk)
    except redis_lib.exceptions.OutOfMemoryError:
        pass  # full up to the limit: exactly what this test needs
    cache = provider_cache(server)

    report = check_dependencies(cache.registry)

    item = report.item("cache")
    assert item.status == BindingStatus.DEGRADED and item.whose_move == WhoseMove.PROVIDER
    assert "maxmemory" in item.message and "enlarge" in item.message
    assert not item.holds_rollout


def test_wrong_credentials_are_misconfigured_and_the_providers_move(redis_server):
    server = redis_server()
    cache = provider_cache(server, password="not-the-password")

    report = prepare_dependencies(cache.registry)

    item = report.item("cache")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert "refuses the stored credentials" in item.message
    assert not report.ready


def test_a_stopped_redis_is_unreachable(redis_server):
    server = redis_server()
    cache = provider_cache(server)
    server.stop()

    report = check_dependencies(cache.registry)

    item = report.item("cache")
    assert item.status == BindingStatus.UNREACHABLE and item.whose_move == WhoseMove.PROVIDER
    assert f"127.0.0.1:{server.port}" in item.message


def test_a_provider_redis_without_endpoint_asks_for_one():
    registry = registry_with(cache_mode=CacheMode.PROVIDER)

    report = prepare_dependencies(registry)

    item = report.item("cache")
    assert item.status == BindingStatus.MISCONFIGURED and "has no endpoint or password yet" in item.message


@pytest.mark.parametrize("acl_user", ["", "harbor"])
def test_rotation_keeps_the_old_password_until_completed_and_survives_a_restart(redis_server, acl_user):
    server = redis_server(acl_user=acl_user)
    cache = provider_cache(server)
    prepare_dependencies(cache.registry)
    old = server.password
    from provisioning.services.rotation import rotate_credentials

    rotate_credentials(cache.registry, ["cache"], actor=None, via="system")
    prepare_dependencies(cache.registry)

    rotated = fresh(cache)
    assert rotated.password != old and rotated.previous_password == old
    assert rotated.rotation_started_at is not None
    assert server.client(password=rotated.password).ping()
    assert server.client(password=old).ping(), "pods not yet rolled keep working"
    server.restart()
    assert server.client(password=rotated.password).ping(), "the change was saved to redis.conf"
    assert server.client(password=old).ping()

    assert complete_rotations(cache.registry) == ["cache"]

    done = fresh(cache)
    assert done.previous_password == "" and done.rotation_started_at is None
    server.restart()
    assert server.client(password=done.password).ping()
    with pytest.raises(redis_lib.AuthenticationError):
        server.client(password=old).ping()


def test_rotation_is_refused_and_undone_when_redis_cannot_save_it(redis_server):
    server = redis_server(
        config_file=False
    )  # no ACL file, no configuration file: a restart would lose a change
    cache = provider_cache(server)
    prepare_dependencies(cache.registry)

    with pytest.raises(RotationNotSupported, match="cannot save a password change"):
        ProviderRedis(timeout=2).rotate(fresh(cache))

    assert server.client().execute_command("ACL", "LIST")[0].count(b"#") == 1, (
        "the added password was removed"
    )
    assert fresh(cache).password == server.password


def test_purge_empties_the_tenants_redis(redis_server):
    server = redis_server()
    cache = provider_cache(server)
    prepare_dependencies(cache.registry)
    server.client().set("harbor:session", "x")
    server.client().execute_command("SELECT", 1)

    purge_dependencies(cache.registry)

    assert server.client().dbsize() == 0
    assert fresh(cache).password == ""


def test_managed_redis_gets_a_password_and_the_namespace_address():
    registry = registry_with(cache_mode=CacheMode.MANAGED)

    report = prepare_dependencies(registry)

    cache = fresh(registry.cache)
    assert cache.host == managed_host(cache) == f"{registry.name}-redis.{registry.namespace}.svc"
    assert cache.port == 6379 and len(cache.password) >= 32
    item = report.item("cache")
    assert item.status == BindingStatus.UNKNOWN and "cannot reach into the cluster network" in item.message
    assert not item.holds_rollout, "the managed Redis is rolled out with the stack: it cannot hold it"


def test_managed_redis_status_is_the_statefulset_readiness():
    registry = registry_with(cache_mode=CacheMode.MANAGED)
    prepare_dependencies(registry)
    component = Component.objects.get(registry=registry, kind=ComponentKind.REDIS)
    from django.utils import timezone

    component.ready_replicas, component.available, component.observed_at = 0, False, timezone.now()
    component.message = "Back-off pulling image"
    component.save()
    assert check_dependencies(registry).item("cache").status == BindingStatus.DEGRADED
    assert "Back-off pulling image" in fresh(registry.cache).status_message

    component.ready_replicas, component.available = 1, True
    component.save()
    assert check_dependencies(registry).item("cache").ok

    component.available = None  # the cluster could not be read: the last facts stay, the state is not known
    component.save()
    item = check_dependencies(registry).item("cache")
    assert item.status == BindingStatus.UNKNOWN and "not known" in item.message
    assert not item.holds_rollout


def test_the_rendered_urls_reach_the_tenants_redis_with_its_credentials(redis_server):
    """The binding feeds rendering's URL helper; the URL it makes for core opens the tenant's Redis."""
    server = redis_server(acl_user="harbor")
    cache = provider_cache(server)
    prepare_dependencies(cache.registry)
    cache = fresh(cache)
    endpoint = RedisEndpoint((f"{cache.host}:{cache.port}",), cache.username, cache.password, cache.tls, "")

    core = redis_lib.Redis.from_url(redis_url(endpoint, DB_CORE, idle_timeout=False))
    jobs = redis_lib.Redis.from_url(redis_url(endpoint, DB_JOBSERVICE, idle_timeout=False))

    assert core.ping() and jobs.ping()
    jobs.set("job", "1")
    assert core.get("job") is None and jobs.get("job") == b"1"
