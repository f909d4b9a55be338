"""Harbor minors: 2.13 is the base, 2.14 and 2.15 differ exactly where HARBOR.md says they do."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from provisioning.rendering import SUPPORTED_MINORS, CacheSpec, harbor_release, render_stack
from provisioning.rendering.spec import StackSpec
from tests.rendering.specs import VERSIONS, build_spec


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name)


def _stack(version: str, **overrides: Any) -> list[dict[str, Any]]:
    return render_stack(build_spec(harbor_version=version, **overrides))


def _container_env(workload: dict[str, Any], container: str) -> dict[str, str]:
    spec = workload["spec"]["template"]["spec"]
    found = next(item for item in spec["containers"] if item["name"] == container)
    return {item["name"]: item.get("value", "") for item in found.get("env", [])}


def test_supported_minors_are_the_maintained_ones() -> None:
    assert SUPPORTED_MINORS == ("2.13", "2.14", "2.15")


@pytest.mark.parametrize("version", ["2.12.4", "2.16.0", "3.0.0"])
def test_unknown_minor_is_refused_naming_the_supported_ones(version: str) -> None:
    with pytest.raises(ValueError, match=r"not supported; supported minors: 2\.13, 2\.14, 2\.15"):
        harbor_release(version)
    with pytest.raises(ValueError, match=r"supported minors: 2\.13, 2\.14, 2\.15"):
        build_spec(harbor_version=version)


def test_malformed_version_is_refused() -> None:
    with pytest.raises(ValueError, match="supported minors"):
        harbor_release("2.14")


@pytest.mark.parametrize("version", VERSIONS)
def test_images_carry_the_exact_version(version: str) -> None:
    images = {
        container["image"]
        for obj in _stack(version)
        if obj["kind"] in ("Deployment", "StatefulSet")
        for container in obj["spec"]["template"]["spec"]["containers"]
    }
    assert images == {
        f"docker.io/goharbor/{name}:v{version}"
        for name in (
            "harbor-core",
            "harbor-portal",
            "registry-photon",
            "harbor-registryctl",
            "harbor-jobservice",
            "trivy-adapter-photon",
            "harbor-exporter",
        )
    }


def test_core_env_differences() -> None:
    env = {version: _find(_stack(version), "ConfigMap", "harbor-core-env")["data"] for version in VERSIONS}
    assert "REPLICATION_ADAPTER_WHITELIST" not in env["2.13.5"]
    assert "harbor" in env["2.14.4"]["REPLICATION_ADAPTER_WHITELIST"].split(",")
    assert env["2.15.2"]["REPLICATION_ADAPTER_WHITELIST"] == env["2.14.4"]["REPLICATION_ADAPTER_WHITELIST"]
    assert env["2.13.5"]["SYNC_QUOTA"] == "true"
    assert env["2.14.4"]["SYNC_QUOTA"] == "true"
    assert "SYNC_QUOTA" not in env["2.15.2"]
    assert "quay" in env["2.13.5"]["PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE"].split(",")
    assert "quay" not in env["2.14.4"]["PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE"].split(",")


def test_core_env_is_otherwise_shared() -> None:
    envs = [_find(_stack(version), "ConfigMap", "harbor-core-env")["data"] for version in VERSIONS]
    differing = {"REPLICATION_ADAPTER_WHITELIST", "SYNC_QUOTA", "PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE"}
    base = {key: value for key, value in envs[0].items() if key not in differing}
    for env in envs[1:]:
        assert {key: value for key, value in env.items() if key not in differing} == base


def test_jobservice_log_level_from_2_14() -> None:
    env = {
        version: _find(_stack(version), "ConfigMap", "harbor-jobservice-env")["data"] for version in VERSIONS
    }
    assert "LOG_LEVEL" not in env["2.13.5"]
    assert env["2.14.4"]["LOG_LEVEL"] == "info"
    assert env["2.15.2"]["LOG_LEVEL"] == "info"


def _registry_redis(version: str, cache: CacheSpec) -> dict[str, Any]:
    config_map = _find(_stack(version, cache=cache), "ConfigMap", "harbor-registry")
    redis: dict[str, Any] = yaml.safe_load(config_map["data"]["config.yml"])["redis"]
    return redis


def test_registry_redis_username_only_from_2_15() -> None:
    acl = CacheSpec(mode="provider", host="redis.example", username="acme", password="pw")
    assert _registry_redis("2.15.2", acl)["username"] == "acme"
    plain = CacheSpec(mode="provider", host="redis.example", password="pw")
    for version in VERSIONS:
        assert "username" not in _registry_redis(version, plain)


@pytest.mark.parametrize("version", ["2.13.5", "2.14.4"])
def test_redis_acl_user_needs_2_15(version: str) -> None:
    acl = CacheSpec(mode="provider", host="redis.example", username="acme", password="pw")
    with pytest.raises(ValueError, match="cannot log in to Redis as an ACL user"):
        build_spec(harbor_version=version, cache=acl)


def test_trivy_db_repositories_from_2_15() -> None:
    for version in VERSIONS:
        env = _container_env(_find(_stack(version), "StatefulSet", "harbor-trivy"), "trivy")
        has_repositories = version.startswith("2.15")
        assert ("SCANNER_TRIVY_DB_REPOSITORY" in env) is has_repositories
        assert ("SCANNER_TRIVY_JAVA_DB_REPOSITORY" in env) is has_repositories
    env = _container_env(_find(_stack("2.15.2"), "StatefulSet", "harbor-trivy"), "trivy")
    assert env["SCANNER_TRIVY_DB_REPOSITORY"].startswith("mirror.gcr.io/aquasec/trivy-db")


def test_same_object_set_for_every_minor() -> None:
    names = [[(obj["kind"], obj["metadata"]["name"]) for obj in _stack(version)] for version in VERSIONS]
    assert names[0] == names[1] == names[2]


def test_version_label_follows_the_spec() -> None:
    spec: StackSpec = build_spec(harbor_version="2.13.5")
    assert {obj["metadata"]["labels"]["app.kubernetes.io/version"] for obj in render_stack(spec)} == {
        "2.13.5"
    }


def test_upgrade_rules() -> None:
    from provisioning.rendering import check_upgrade

    check_upgrade("2.13.5", "2.15.2")
    check_upgrade("2.14.3", "2.14.4")
    check_upgrade("2.15.2", "2.15.2")
    with pytest.raises(ValueError, match="cannot be downgraded"):
        check_upgrade("2.15.2", "2.14.4")
    with pytest.raises(ValueError, match="cannot be downgraded"):
        check_upgrade("2.14.4", "2.14.3")
    with pytest.raises(ValueError, match="supported minors"):
        check_upgrade("2.12.0", "2.13.5")
