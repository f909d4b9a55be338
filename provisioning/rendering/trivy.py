"""Trivy adapter: the vulnerability scanner, a StatefulSet whose ``data`` claim caches the Trivy databases."""

from __future__ import annotations

from provisioning.rendering.names import HTTP_PORT, TRIVY, object_name
from provisioning.rendering.objects import Checksums, Object, secret, service
from provisioning.rendering.pods import (
    TMP_PATH,
    container,
    container_port,
    empty_dir,
    env_value,
    http_probe,
    image,
    mount,
    pod_template,
    stateful_set,
)
from provisioning.rendering.redis_urls import DB_TRIVY, redis_endpoint, redis_url
from provisioning.rendering.spec import StackSpec
from provisioning.rendering.versions import harbor_release

CACHE_PATH = "/home/scanner/.cache"


def trivy_env(spec: StackSpec) -> dict[str, str]:
    env = {
        "SCANNER_LOG_LEVEL": spec.log_level,
        "SCANNER_API_SERVER_ADDR": f":{HTTP_PORT}",
        "SCANNER_TRIVY_CACHE_DIR": f"{CACHE_PATH}/trivy",
        "SCANNER_TRIVY_REPORTS_DIR": f"{CACHE_PATH}/reports",
        "SCANNER_TRIVY_DEBUG_MODE": "false",
        "SCANNER_TRIVY_VULN_TYPE": "os,library",
        "SCANNER_TRIVY_SEVERITY": "UNKNOWN,LOW,MEDIUM,HIGH,CRITICAL",
        "SCANNER_TRIVY_IGNORE_UNFIXED": "false",
        "SCANNER_TRIVY_SKIP_UPDATE": "false",
        "SCANNER_TRIVY_SKIP_JAVA_DB_UPDATE": "false",
        "SCANNER_TRIVY_OFFLINE_SCAN": "false",
        "SCANNER_TRIVY_INSECURE": "false",
        "SCANNER_TRIVY_TIMEOUT": "5m0s",
    }
    if harbor_release(spec.harbor_version).trivy_db_repository_env:
        env["SCANNER_TRIVY_DB_REPOSITORY"] = spec.trivy_db_repository
        env["SCANNER_TRIVY_JAVA_DB_REPOSITORY"] = spec.trivy_java_db_repository
    return env


def render_trivy_secret(spec: StackSpec) -> Object:
    """``<instance>-trivy``: the credentialled Redis URLs (db 5)."""
    url = redis_url(redis_endpoint(spec), DB_TRIVY)
    return secret(
        spec,
        TRIVY,
        object_name(spec, TRIVY),
        {"SCANNER_REDIS_URL": url, "SCANNER_STORE_REDIS_URL": url, "SCANNER_JOB_QUEUE_REDIS_URL": url},
    )


def render_trivy_statefulset(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, TRIVY)
    trivy = container(
        "trivy",
        image(spec, "trivy-adapter-photon"),
        TRIVY,
        spec.components.trivy,
        ports=[container_port("api-server", HTTP_PORT)],
        env_from=[{"secretRef": {"name": name}}],
        env=[env_value(key, value) for key, value in trivy_env(spec).items()],
        mounts=[mount("data", CACHE_PATH, read_only=False), mount("tmp", TMP_PATH, read_only=False)],
        liveness=http_probe("/probe/healthy", "api-server", initial_delay=5, failure=10),
        readiness=http_probe("/probe/ready", "api-server", initial_delay=5, failure=3),
    )
    template = pod_template(spec, TRIVY, [trivy], [empty_dir("tmp", "1Gi")], checksums)
    return stateful_set(
        spec, TRIVY, name, spec.components.trivy.replicas, template, ("data", spec.trivy_storage)
    )


def render_trivy_service(spec: StackSpec) -> Object:
    return service(spec, TRIVY, object_name(spec, TRIVY), [("http-trivy", HTTP_PORT, "api-server")])
