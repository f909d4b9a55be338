"""Configuration content: what each Harbor component reads, exposure, isolation and the namespace."""

from __future__ import annotations

import base64
from typing import Any

import pytest
import yaml

from provisioning.rendering import CacheSpec, DatabaseSpec, render_stack
from tests.rendering.specs import MANAGED_CACHE, SWIFT, build_spec


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name)


def _secret(objects: list[dict[str, Any]], name: str) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in _find(objects, "Secret", name)["data"].items()}


def _yaml_file(objects: list[dict[str, Any]], name: str, key: str = "config.yml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_find(objects, "ConfigMap", name)["data"][key])
    return loaded


def test_core_reads_the_external_database() -> None:
    objects = render_stack(build_spec())
    env = _find(objects, "ConfigMap", "harbor-core-env")["data"]
    assert {key: env[key] for key in env if key.startswith(("POSTGRESQL_", "DATABASE_"))} == {
        "DATABASE_TYPE": "postgresql",
        "POSTGRESQL_HOST": "pg-acme.db.example",
        "POSTGRESQL_PORT": "5432",
        "POSTGRESQL_USERNAME": "acme",
        "POSTGRESQL_DATABASE": "registry",
        "POSTGRESQL_SSLMODE": "require",
        "POSTGRESQL_MAX_IDLE_CONNS": "50",
        "POSTGRESQL_MAX_OPEN_CONNS": "100",
        "POSTGRESQL_CONN_MAX_LIFETIME": "5m",
        "POSTGRESQL_CONN_MAX_IDLE_TIME": "0",
    }
    assert _secret(objects, "harbor-core")["POSTGRESQL_PASSWORD"] == "Db-Pass-Value-7"


def test_core_internal_urls() -> None:
    env = _find(render_stack(build_spec()), "ConfigMap", "harbor-core-env")["data"]
    assert env["CORE_URL"] == "http://harbor-core:80"
    assert env["CORE_LOCAL_URL"] == "http://127.0.0.1:8080"
    assert env["JOBSERVICE_URL"] == "http://harbor-jobservice"
    assert env["PORTAL_URL"] == "http://harbor-portal"
    assert env["REGISTRY_URL"] == "http://harbor-registry:5000"
    assert env["REGISTRY_CONTROLLER_URL"] == "http://harbor-registry:8080"
    assert env["TOKEN_SERVICE_URL"] == "http://harbor-core:80/service/token"
    assert env["TRIVY_ADAPTER_URL"] == "http://harbor-trivy:8080"
    assert env["EXT_ENDPOINT"] == "https://acme.registry.example.com"
    assert env["REGISTRY_STORAGE_PROVIDER_NAME"] == "s3"
    assert env["REGISTRY_CREDENTIAL_USERNAME"] == "harbor_registry_user"


def test_core_shared_secrets() -> None:
    objects = render_stack(build_spec())
    core = _secret(objects, "harbor-core")
    assert core["CORE_SECRET"] == "CoreSecret0123ab"
    assert core["CSRF_KEY"] == "CsrfKey0123456789abcdefghijklmno"
    assert core["HARBOR_ADMIN_PASSWORD"] == "Admin-Pass-Word-1"
    assert core["REGISTRY_CREDENTIAL_PASSWORD"] == "Registry-Pass-1"
    keys = _secret(objects, "harbor-core-keys")
    assert keys["secretKey"] == "EncryptionKey016"
    assert keys["tls.key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert "app.conf" in _find(objects, "ConfigMap", "harbor-core")["data"]


def test_exporter_reads_the_database_and_core() -> None:
    objects = render_stack(build_spec())
    env = _find(objects, "ConfigMap", "harbor-exporter-env")["data"]
    for key, value in {
        "HARBOR_DATABASE_HOST": "pg-acme.db.example",
        "HARBOR_DATABASE_PORT": "5432",
        "HARBOR_DATABASE_USERNAME": "acme",
        "HARBOR_DATABASE_DBNAME": "registry",
        "HARBOR_DATABASE_SSLMODE": "require",
        "HARBOR_DATABASE_MAX_IDLE_CONNS": "50",
        "HARBOR_DATABASE_MAX_OPEN_CONNS": "100",
        "HARBOR_EXPORTER_PORT": "8001",
        "HARBOR_EXPORTER_METRICS_PATH": "/metrics",
        "HARBOR_SERVICE_HOST": "harbor-core",
        "HARBOR_SERVICE_PORT": "80",
        "HARBOR_SERVICE_SCHEME": "http",
        "HARBOR_REDIS_NAMESPACE": "harbor_job_service_namespace",
    }.items():
        assert env[key] == value, key
    secret = _secret(objects, "harbor-exporter")
    assert secret["HARBOR_DATABASE_PASSWORD"] == "Db-Pass-Value-7"
    assert secret["HARBOR_ADMIN_PASSWORD"] == "Admin-Pass-Word-1"


def test_registry_config_with_s3() -> None:
    objects = render_stack(build_spec())
    config = _yaml_file(objects, "harbor-registry")
    storage = config["storage"]
    assert storage["s3"] == {
        "region": "gra",
        "bucket": "tenant-acme-registry",
        "regionendpoint": "https://s3.gra.io.cloud.example:443",
        "secure": True,
        "v4auth": True,
        "rootdirectory": "/harbor",
    }
    assert storage["cache"] == {"layerinfo": "redis"}
    assert storage["delete"] == {"enabled": True}
    assert storage["redirect"] == {"disable": True}
    assert storage["maintenance"]["uploadpurging"]["enabled"] is True
    assert config["auth"] == {
        "htpasswd": {"realm": "harbor-registry-basic-realm", "path": "/etc/registry/passwd"}
    }
    assert config["http"]["addr"] == ":5000"
    assert config["http"]["debug"] == {"addr": ":8001", "prometheus": {"enabled": True, "path": "/metrics"}}
    assert "secret" not in config["http"]
    secret = _secret(objects, "harbor-registry")
    assert secret["REGISTRY_HTTP_SECRET"] == "RegistryHttpSecret01"
    assert secret["REGISTRY_STORAGE_S3_ACCESSKEY"] == "AKIAEXAMPLEACCESS"
    assert secret["REGISTRY_STORAGE_S3_SECRETKEY"] == "S3-Secret-Key-Value-xyz"
    assert _secret(objects, "harbor-registry-htpasswd")["passwd"].startswith("harbor_registry_user:$2b$")


def test_registry_config_with_swift() -> None:
    objects = render_stack(build_spec(storage=SWIFT))
    assert _yaml_file(objects, "harbor-registry")["storage"]["swift"] == {
        "authurl": "https://auth.cloud.example:5000/v3",
        "username": "swift-user",
        "container": "tenant-acme-registry",
        "region": "GRA",
        "tenant": "acme-project",
        "domain": "Default",
        "authversion": 3,
    }
    secret = _secret(objects, "harbor-registry")
    assert secret["REGISTRY_STORAGE_SWIFT_PASSWORD"] == "Swift-Pass-Value-abc"
    assert "REGISTRY_STORAGE_S3_ACCESSKEY" not in secret
    assert _find(objects, "ConfigMap", "harbor-core-env")["data"]["REGISTRY_STORAGE_PROVIDER_NAME"] == "swift"


def test_registryctl_config() -> None:
    assert _yaml_file(render_stack(build_spec()), "harbor-registry", "ctl-config.yml") == {
        "protocol": "http",
        "port": 8080,
        "log_level": "info",
        "registry_config": "/etc/registry/config.yml",
    }


def test_jobservice_config() -> None:
    config = _yaml_file(render_stack(build_spec()), "harbor-jobservice")
    assert config["port"] == 8080
    assert config["worker_pool"]["backend"] == "redis"
    assert config["worker_pool"]["redis_pool"]["namespace"] == "harbor_job_service_namespace"
    assert config["worker_pool"]["redis_pool"]["redis_url"].endswith("/1")
    assert config["metric"] == {"enabled": True, "path": "/metrics", "port": 8001}
    assert config["max_job_duration_hours"] >= 24


def test_portal_nginx_listens_on_8080_and_writes_only_tmp() -> None:
    conf = _find(render_stack(build_spec()), "ConfigMap", "harbor-portal")["data"]["nginx.conf"]
    assert "listen 8080;" in conf
    assert "pid /tmp/nginx.pid;" in conf
    assert "client_body_temp_path /tmp/" in conf


def test_ingress_paths_tls_and_limits() -> None:
    objects = render_stack(build_spec(parallel_request_limit=25))
    ingress = _find(objects, "Ingress", "harbor")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["acme.registry.example.com"], "secretName": "harbor-tls"}]
    paths = {
        path["path"]: path["backend"]["service"]["name"]
        for path in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    assert paths == {
        "/api/": "harbor-core",
        "/service/": "harbor-core",
        "/v2/": "harbor-core",
        "/c/": "harbor-core",
        "/": "harbor-portal",
    }
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/limit-connections"] == "25"
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "0"
    certificate = _find(objects, "Certificate", "harbor")
    assert certificate["spec"]["secretName"] == "harbor-tls"
    assert certificate["spec"]["dnsNames"] == ["acme.registry.example.com"]
    assert certificate["spec"]["issuerRef"] == {
        "name": "letsencrypt-prod",
        "kind": "ClusterIssuer",
        "group": "cert-manager.io",
    }


def test_unknown_ingress_profile_is_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="known profiles: nginx"):
        render_stack(build_spec(ingress_profile="traefik"))


def _policies(**overrides: Any) -> dict[str, dict[str, Any]]:
    objects = render_stack(build_spec(**overrides))
    return {obj["metadata"]["name"]: obj["spec"] for obj in objects if obj["kind"] == "NetworkPolicy"}


def test_network_default_deny_and_dns_where_the_cluster_runs_it() -> None:
    policies = _policies(dns_namespace="coredns", dns_pod_labels={"app": "coredns"})
    assert policies["harbor-default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    dns = policies["harbor-allow-dns"]["egress"][0]
    assert dns["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "coredns"}},
            "podSelector": {"matchLabels": {"app": "coredns"}},
        }
    ]
    assert {(port["protocol"], port["port"]) for port in dns["ports"]} == {("UDP", 53), ("TCP", 53)}


def _egress_to(policy: dict[str, Any], port: int) -> list[list[dict[str, Any]]]:
    return [rule["to"] for rule in policy["egress"] if {"protocol": "TCP", "port": port} in rule["ports"]]


def test_each_external_host_becomes_a_rule_to_its_addresses_and_port_only() -> None:
    policies = _policies()
    assert _egress_to(policies["harbor-core"], 5432) == [[{"ipBlock": {"cidr": "10.20.1.5/32"}}]]
    assert _egress_to(policies["harbor-jobservice"], 6380) == [
        [{"ipBlock": {"cidr": "10.20.2.7/32"}}, {"ipBlock": {"cidr": "10.20.2.8/32"}}]
    ]
    assert _egress_to(policies["harbor-registry"], 443)[0] == [{"ipBlock": {"cidr": "198.51.100.20/32"}}]
    assert _egress_to(policies["harbor-portal"], 5432) == []
    literal = DatabaseSpec(host="192.0.2.44", username="acme", password="Db-Pass-Value-7", port=6432)
    assert _egress_to(_policies(database=literal)["harbor-exporter"], 6432) == [
        [{"ipBlock": {"cidr": "192.0.2.44/32"}}]
    ]


def test_a_host_without_an_address_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"database host 'pg-acme\.db\.example'"):
        render_stack(build_spec(external_addresses={}))


def test_upstream_https_excepts_the_private_ranges_inside_it() -> None:
    rules = _egress_to(_policies(upstream_egress_cidrs=("0.0.0.0/0", "10.8.0.0/16"))["harbor-core"], 443)
    upstream = rules[-1]
    assert upstream[0]["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"} <= set(
        upstream[0]["ipBlock"]["except"]
    )
    assert upstream[1] == {"ipBlock": {"cidr": "10.8.0.0/16"}}
    assert all(
        "0.0.0.0/0" not in str(rule)
        for rule in _egress_to(_policies(upstream_egress_cidrs=())["harbor-core"], 443)
    )
    assert all("0.0.0.0/0" not in str(rule) for rule in _egress_to(_policies()["harbor-portal"], 443))


def test_swift_storage_reaches_its_auth_url_and_upstream_for_the_object_store() -> None:
    registry = _policies(storage=SWIFT)["harbor-registry"]
    assert [{"ipBlock": {"cidr": "198.51.100.30/32"}}] in _egress_to(registry, 5000)
    assert any("0.0.0.0/0" in str(peers) for peers in _egress_to(registry, 443))


def test_a_sentinel_master_is_reached_through_the_cluster_cidrs() -> None:
    sentinel = CacheSpec(
        mode="provider", host="10.20.3.1:26379,10.20.3.2:26379", sentinel_master="mymaster", password="x"
    )
    core = _policies(cache=sentinel)["harbor-core"]
    assert _egress_to(core, 26379) == [
        [{"ipBlock": {"cidr": "10.20.3.1/32"}}],
        [{"ipBlock": {"cidr": "10.20.3.2/32"}}],
    ]
    assert _egress_to(core, 6379) == [
        [{"ipBlock": {"cidr": "10.20.0.0/16"}}, {"ipBlock": {"cidr": "192.0.2.10/32"}}]
    ]
    with pytest.raises(ValueError, match="Sentinel names its master"):
        build_spec(cache=sentinel, egress_cidrs=())


def test_http01_solver_pods_take_the_ingress_controller_on_8089() -> None:
    solver = _policies()["harbor-acme-http01-solver"]
    assert solver["podSelector"] == {"matchLabels": {"acme.cert-manager.io/http01-solver": "true"}}
    assert solver["ingress"] == [
        {
            "from": [
                {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
            ],
            "ports": [{"protocol": "TCP", "port": 8089}],
        }
    ]
    assert "harbor-acme-http01-solver" not in _policies(acme_http01=False)


def test_managed_redis_accepts_only_its_clients() -> None:
    policy = _policies(cache=MANAGED_CACHE)["harbor-redis"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "redis"
    clients = {
        rule["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]
        for rule in policy["ingress"]
    }
    assert clients == {"core", "registry", "jobservice", "trivy", "exporter"}
    assert all(rule["ports"] == [{"protocol": "TCP", "port": 6379}] for rule in policy["ingress"])
    assert policy["egress"] == []


def test_namespace_is_pod_security_restricted() -> None:
    namespace = render_stack(build_spec())[0]
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert namespace["metadata"]["annotations"]["harbor-console.io/storage-quota-bytes"] == "107374182400"


def test_quota_is_the_stacks_peak_worked_by_hand() -> None:
    objects = render_stack(build_spec())
    hard = _find(objects, "ResourceQuota", "harbor-quota")["spec"]["hard"]
    # core 3 pods (2 + surge), portal 2, registry+registryctl 2, jobservice 2, trivy 1, exporter 2, solver 1
    assert hard == {
        "requests.cpu": "1210m",
        "limits.cpu": "11100m",
        "requests.memory": "2752Mi",
        "limits.memory": "9792Mi",
        "pods": "13",
        "requests.storage": "5Gi",
        "persistentvolumeclaims": "1",
    }
    limits = _find(objects, "LimitRange", "harbor-limits")["spec"]["limits"][0]
    assert limits["type"] == "Container"
    assert limits["defaultRequest"] == {"cpu": "10m", "memory": "64Mi"}
    assert limits["default"] == {"cpu": "100m", "memory": "64Mi"}
    assert limits["max"] == {"cpu": "1", "memory": "1Gi"}


def test_a_suspended_stack_runs_no_pod_and_keeps_its_claims() -> None:
    objects = render_stack(build_spec(suspended=True, cache=MANAGED_CACHE))
    assert all(
        obj["spec"]["replicas"] == 0 for obj in objects if obj["kind"] in ("Deployment", "StatefulSet")
    )
    hard = _find(objects, "ResourceQuota", "harbor-quota")["spec"]["hard"]
    assert (hard["pods"], hard["requests.cpu"]) == ("1", "10m")  # the solver's room only
    assert (hard["persistentvolumeclaims"], hard["requests.storage"]) == ("2", "6Gi")
