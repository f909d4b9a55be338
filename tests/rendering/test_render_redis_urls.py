"""Redis URLs: database indexes per component, TLS, Sentinel, ACL users, encoded credentials."""

from __future__ import annotations

import base64
from typing import Any

import yaml

from provisioning.rendering import CacheSpec, render_stack
from provisioning.rendering.redis_urls import RedisEndpoint, redis_url
from tests.rendering.specs import build_spec


def _secret(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    found = next(obj for obj in objects if obj["kind"] == "Secret" and obj["metadata"]["name"] == name)
    return {key: base64.b64decode(value).decode() for key, value in found["data"].items()}


def _endpoint(**overrides: Any) -> RedisEndpoint:
    values: dict[str, Any] = {
        "addresses": ("redis.example:6379",),
        "username": "",
        "password": "pw",
        "tls": False,
        "sentinel_master": "",
    }
    values.update(overrides)
    return RedisEndpoint(**values)


def test_plain_url_with_password_only() -> None:
    assert redis_url(_endpoint(), 0) == "redis://:pw@redis.example:6379/0?idle_timeout_seconds=30"


def test_tls_uses_rediss() -> None:
    assert redis_url(_endpoint(tls=True), 2, idle_timeout=False) == "rediss://:pw@redis.example:6379/2"


def test_username_is_in_the_url() -> None:
    assert redis_url(_endpoint(username="acme"), 5).startswith("redis://acme:pw@redis.example:6379/5?")


def test_sentinel_form() -> None:
    endpoint = _endpoint(addresses=("s1:26379", "s2:26379"), sentinel_master="mymaster")
    assert redis_url(endpoint, 1, idle_timeout=False) == "redis+sentinel://:pw@s1:26379,s2:26379/mymaster/1"


def test_special_characters_are_percent_encoded() -> None:
    url = redis_url(_endpoint(username="us@er:x", password="p@ss:w/o#r d%?"), 0, idle_timeout=False)
    assert url == "redis://us%40er%3Ax:p%40ss%3Aw%2Fo%23r%20d%25%3F@redis.example:6379/0"


def test_without_credentials() -> None:
    url = redis_url(_endpoint(username="acme"), 1, idle_timeout=False, credentials=False)
    assert url == "redis://redis.example:6379/1"


def test_database_indexes_per_component() -> None:
    objects = render_stack(build_spec(redis_cache_databases=True))
    core = _secret(objects, "harbor-core")
    host = "redis-acme.db.example:6380"
    password = "Cache-Pass%2FValue%231"
    assert core["_REDIS_URL_CORE"] == f"redis://:{password}@{host}/0?idle_timeout_seconds=30"
    assert core["_REDIS_URL_REG"] == f"redis://:{password}@{host}/2?idle_timeout_seconds=30"
    assert core["_REDIS_URL_HARBOR"].endswith(f"@{host}/6?idle_timeout_seconds=30")
    assert core["_REDIS_URL_CACHE_LAYER"].endswith(f"@{host}/7?idle_timeout_seconds=30")
    assert (
        _secret(objects, "harbor-jobservice")["JOB_SERVICE_POOL_REDIS_URL"] == f"redis://:{password}@{host}/1"
    )
    assert _secret(objects, "harbor-exporter")["HARBOR_REDIS_URL"] == f"redis://:{password}@{host}/1"
    trivy = _secret(objects, "harbor-trivy")
    assert {
        trivy[key] for key in ("SCANNER_REDIS_URL", "SCANNER_STORE_REDIS_URL", "SCANNER_JOB_QUEUE_REDIS_URL")
    } == {f"redis://:{password}@{host}/5?idle_timeout_seconds=30"}


def test_cache_databases_are_optional() -> None:
    core = _secret(render_stack(build_spec()), "harbor-core")
    assert "_REDIS_URL_HARBOR" not in core
    assert "_REDIS_URL_CACHE_LAYER" not in core


def _config(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    found = next(obj for obj in objects if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == name)
    config: dict[str, Any] = yaml.safe_load(found["data"]["config.yml"])
    return config


def test_registry_and_jobservice_files_hold_no_password() -> None:
    objects = render_stack(build_spec())
    registry = _config(objects, "harbor-registry")["redis"]
    assert registry["addr"] == "redis-acme.db.example:6380"
    assert registry["db"] == 2
    assert "password" not in registry
    assert _secret(objects, "harbor-registry")["REGISTRY_REDIS_PASSWORD"] == "Cache-Pass/Value#1"
    pool = _config(objects, "harbor-jobservice")["worker_pool"]["redis_pool"]
    assert pool == {
        "redis_url": "redis://redis-acme.db.example:6380/1",
        "namespace": "harbor_job_service_namespace",
        "idle_timeout_second": 3600,
    }


def test_registry_tls_and_sentinel_settings() -> None:
    tls = CacheSpec(mode="provider", host="r.example", port=6390, password="pw", tls=True)
    registry = _config(render_stack(build_spec(cache=tls)), "harbor-registry")["redis"]
    assert registry["enableTLS"] is True
    assert _secret(render_stack(build_spec(cache=tls)), "harbor-core")["_REDIS_URL_CORE"].startswith(
        "rediss://"
    )
    sentinel = CacheSpec(
        mode="provider", host="s1,s2:26380", port=26379, password="pw", sentinel_master="main"
    )
    objects = render_stack(build_spec(cache=sentinel))
    registry = _config(objects, "harbor-registry")["redis"]
    assert registry["addr"] == "s1:26379,s2:26380"
    assert registry["sentinelMasterSet"] == "main"
    assert "enableTLS" not in registry
    assert _secret(objects, "harbor-core")["_REDIS_URL_CORE"] == (
        "redis+sentinel://:pw@s1:26379,s2:26380/main/0?idle_timeout_seconds=30"
    )


def test_managed_redis_is_reached_through_its_service() -> None:
    managed = CacheSpec(mode="managed", password="Managed-Pass", host="ignored.example", tls=True)
    objects = render_stack(build_spec(cache=managed))
    assert _secret(objects, "harbor-core")["_REDIS_URL_CORE"] == (
        "redis://:Managed-Pass@harbor-redis:6379/0?idle_timeout_seconds=30"
    )
    conf = _secret(objects, "harbor-redis")["redis.conf"]
    assert "Managed-Pass" not in conf
    assert "user default on #" in conf
