"""Harbor core: API, token service and database migrations (at start)."""

from __future__ import annotations

from provisioning.rendering.names import (
    CORE,
    HTTP_PORT,
    JOBSERVICE,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
    REGISTRY_USER,
    core_url,
    jobservice_url,
    object_name,
    portal_url,
    registry_controller_url,
    registry_url,
    token_service_url,
    trivy_adapter_url,
)
from provisioning.rendering.objects import Checksums, Object, config_map, secret, service
from provisioning.rendering.pods import (
    config_map_volume,
    container,
    container_port,
    deployment,
    empty_dir,
    env_from_secret,
    http_probe,
    image,
    mount,
    pod_template,
    secret_volume,
)
from provisioning.rendering.redis_urls import (
    DB_CACHE_LAYER,
    DB_CORE,
    DB_HARBOR,
    DB_REGISTRY,
    redis_endpoint,
    redis_url,
)
from provisioning.rendering.spec import StackSpec
from provisioning.rendering.versions import harbor_release

APP_CONF = """appname = Harbor
runmode = prod
enablegzip = true

[prod]
httpport = 8080
"""
PING_PATH = "/api/v2.0/ping"


def core_env(spec: StackSpec) -> dict[str, str]:
    """Core's non-secret environment, including the version differences."""
    release = harbor_release(spec.harbor_version)
    db = spec.database
    env = {
        "PORT": str(HTTP_PORT),
        "CONFIG_PATH": "/etc/core/app.conf",
        "LOG_LEVEL": spec.log_level,
        "EXT_ENDPOINT": spec.external_url.rstrip("/"),
        "DATABASE_TYPE": "postgresql",
        "POSTGRESQL_HOST": db.host,
        "POSTGRESQL_PORT": str(db.port),
        "POSTGRESQL_USERNAME": db.username,
        "POSTGRESQL_DATABASE": db.name,
        "POSTGRESQL_SSLMODE": db.sslmode,
        "POSTGRESQL_MAX_IDLE_CONNS": str(db.max_idle_conns),
        "POSTGRESQL_MAX_OPEN_CONNS": str(db.max_open_conns),
        "POSTGRESQL_CONN_MAX_LIFETIME": db.conn_max_lifetime,
        "POSTGRESQL_CONN_MAX_IDLE_TIME": db.conn_max_idle_time,
        "CORE_URL": core_url(spec),
        "CORE_LOCAL_URL": f"http://127.0.0.1:{HTTP_PORT}",
        "JOBSERVICE_URL": jobservice_url(spec),
        "PORTAL_URL": portal_url(spec),
        "REGISTRY_URL": registry_url(spec),
        "REGISTRY_CONTROLLER_URL": registry_controller_url(spec),
        "TOKEN_SERVICE_URL": token_service_url(spec),
        "REGISTRY_CREDENTIAL_USERNAME": REGISTRY_USER,
        "REGISTRY_STORAGE_PROVIDER_NAME": spec.storage.kind,
        "WITH_TRIVY": "true" if spec.trivy_enabled else "false",
        "SYNC_REGISTRY": "false",
        "CHART_CACHE_DRIVER": "redis",
        "PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE": release.proxy_cache_types,
        "METRIC_ENABLE": "true",
        "METRIC_PATH": METRICS_PATH,
        "METRIC_PORT": str(METRICS_PORT),
        "METRIC_NAMESPACE": "harbor",
        "METRIC_SUBSYSTEM": "core",
    }
    if spec.trivy_enabled:
        env["TRIVY_ADAPTER_URL"] = trivy_adapter_url(spec)
    if release.core_sync_quota:
        env["SYNC_QUOTA"] = "true"
    if release.replication_adapter_whitelist:
        env["REPLICATION_ADAPTER_WHITELIST"] = release.replication_adapter_whitelist
    return env


def render_core_configmap(spec: StackSpec) -> Object:
    """``<instance>-core``: ``app.conf``, mounted at ``/etc/core/app.conf``."""
    return config_map(spec, CORE, object_name(spec, CORE), {"app.conf": APP_CONF})


def render_core_env_configmap(spec: StackSpec) -> Object:
    """``<instance>-core-env``: the environment core reads at start."""
    return config_map(spec, CORE, object_name(spec, CORE, "env"), core_env(spec))


def render_core_secret(spec: StackSpec) -> Object:
    """``<instance>-core``: secret environment (shared secrets, passwords, credentialled Redis URLs)."""
    endpoint = redis_endpoint(spec)
    data = {
        "CORE_SECRET": spec.secrets.core_secret,
        "CSRF_KEY": spec.secrets.csrf_key,
        "HARBOR_ADMIN_PASSWORD": spec.secrets.admin_password,
        "POSTGRESQL_PASSWORD": spec.database.password,
        "REGISTRY_CREDENTIAL_PASSWORD": spec.secrets.registry_password,
        "_REDIS_URL_CORE": redis_url(endpoint, DB_CORE),
        "_REDIS_URL_REG": redis_url(endpoint, DB_REGISTRY),
    }
    if spec.redis_cache_databases:
        data["_REDIS_URL_HARBOR"] = redis_url(endpoint, DB_HARBOR)
        data["_REDIS_URL_CACHE_LAYER"] = redis_url(endpoint, DB_CACHE_LAYER)
    return secret(spec, CORE, object_name(spec, CORE), data)


def render_core_keys_secret(spec: StackSpec) -> Object:
    """``<instance>-core-keys``: encryption key and token signing key pair, identical on every replica."""
    return secret(
        spec,
        CORE,
        object_name(spec, CORE, "keys"),
        {
            "secretKey": spec.secrets.secret_key,
            "tls.key": spec.secrets.token_private_key,
            "tls.crt": spec.secrets.token_certificate,
        },
    )


def render_core_deployment(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, CORE)
    core = container(
        "core",
        image(spec, "harbor-core"),
        CORE,
        spec.components.core,
        ports=[container_port("http", HTTP_PORT), container_port(METRICS_PORT_NAME, METRICS_PORT)],
        env_from=[
            {"configMapRef": {"name": object_name(spec, CORE, "env")}},
            {"secretRef": {"name": name}},
        ],
        env=[env_from_secret("JOBSERVICE_SECRET", object_name(spec, JOBSERVICE), "JOBSERVICE_SECRET")],
        mounts=[
            mount("config", "/etc/core/app.conf", "app.conf"),
            mount("keys", "/etc/core/key", "key"),
            mount("keys", "/etc/core/private_key.pem", "private_key.pem"),
            mount("token-cache", "/etc/core/token", read_only=False),
        ],
        startup=http_probe(PING_PATH, HTTP_PORT, initial_delay=10, period=10, failure=360),
        liveness=http_probe(PING_PATH, HTTP_PORT, initial_delay=0, failure=3),
        readiness=http_probe(PING_PATH, HTTP_PORT, initial_delay=0, failure=2),
    )
    volumes = [
        config_map_volume("config", name),
        secret_volume(
            "keys", object_name(spec, CORE, "keys"), [("secretKey", "key"), ("tls.key", "private_key.pem")]
        ),
        empty_dir("token-cache", "64Mi"),
    ]
    template = pod_template(spec, CORE, [core], volumes, checksums)
    return deployment(spec, CORE, name, spec.components.core.replicas, template)


def render_core_service(spec: StackSpec) -> Object:
    return service(
        spec,
        CORE,
        object_name(spec, CORE),
        [("http-web", 80, "http"), (METRICS_PORT_NAME, METRICS_PORT, METRICS_PORT_NAME)],
    )
