"""The registry (distribution) and its controller registryctl: one pod, two containers, one Service."""

from __future__ import annotations

from typing import Any

from provisioning.rendering.names import (
    CORE,
    HTPASSWD_REALM,
    HTTP_PORT,
    JOBSERVICE,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
    REGISTRY,
    REGISTRY_PORT,
    REGISTRYCTL,
    object_name,
)
from provisioning.rendering.objects import Checksums, Object, config_map, secret, service
from provisioning.rendering.pods import (
    config_map_volume,
    container,
    container_port,
    deployment,
    env_from_secret,
    http_probe,
    image,
    mount,
    pod_template,
    secret_volume,
)
from provisioning.rendering.redis_urls import DB_REGISTRY, redis_endpoint
from provisioning.rendering.spec import StackSpec, StorageSpec
from provisioning.rendering.versions import harbor_release
from provisioning.rendering.yaml_text import dump

CONFIG_PATH = "/etc/registry/config.yml"
HTPASSWD_PATH = "/etc/registry/passwd"


def storage_config(storage: StorageSpec) -> dict[str, Any]:
    """The ``storage.<driver>`` section; credentials are left to environment variables from the Secret."""
    if storage.kind == "s3":
        s3: dict[str, Any] = {"region": storage.region, "bucket": storage.bucket}
        if storage.endpoint:
            s3["regionendpoint"] = storage.endpoint
        s3["secure"] = storage.secure
        s3["v4auth"] = storage.v4auth
        if storage.root_directory:
            s3["rootdirectory"] = storage.root_directory
        return {"s3": s3}
    swift: dict[str, Any] = {
        "authurl": storage.auth_url,
        "username": storage.username,
        "container": storage.container,
    }
    for key in ("region", "tenant", "domain"):
        if getattr(storage, key):
            swift[key] = getattr(storage, key)
    swift["authversion"] = storage.auth_version
    return {"swift": swift}


def storage_credentials(storage: StorageSpec) -> dict[str, str]:
    """Environment overrides carrying the object-storage credentials (registry and registryctl)."""
    if storage.kind == "s3":
        return {
            "REGISTRY_STORAGE_S3_ACCESSKEY": storage.access_key,
            "REGISTRY_STORAGE_S3_SECRETKEY": storage.secret_key,
        }
    return {"REGISTRY_STORAGE_SWIFT_PASSWORD": storage.password}


def registry_config(spec: StackSpec) -> dict[str, Any]:
    """``config.yml`` of the registry as data. Secrets (http secret, Redis password, storage keys) come
    from ``REGISTRY_*`` environment overrides, never from this file."""
    endpoint = redis_endpoint(spec)
    redis: dict[str, Any] = {"addr": endpoint.addr}
    if endpoint.sentinel_master:
        redis["sentinelMasterSet"] = endpoint.sentinel_master
    if endpoint.username and harbor_release(spec.harbor_version).registry_redis_username:
        redis["username"] = endpoint.username
    redis["db"] = DB_REGISTRY
    if endpoint.tls:
        redis["enableTLS"] = True
    redis.update(
        {
            "readtimeout": "10s",
            "writetimeout": "10s",
            "dialtimeout": "10s",
            "pool": {"maxidle": 100, "maxactive": 500, "idletimeout": "60s"},
        }
    )
    storage = storage_config(spec.storage)
    storage.update(
        {
            "cache": {"layerinfo": "redis"},
            "maintenance": {
                "uploadpurging": {"enabled": True, "age": "168h", "interval": "24h", "dryrun": False}
            },
            "delete": {"enabled": True},
            "redirect": {"disable": True},
        }
    )
    return {
        "version": 0.1,
        "log": {"level": spec.log_level, "fields": {"service": "registry"}},
        "storage": storage,
        "redis": redis,
        "http": {
            "addr": f":{REGISTRY_PORT}",
            "relativeurls": False,
            "debug": {"addr": f":{METRICS_PORT}", "prometheus": {"enabled": True, "path": METRICS_PATH}},
        },
        "auth": {"htpasswd": {"realm": HTPASSWD_REALM, "path": HTPASSWD_PATH}},
    }


def registryctl_config(spec: StackSpec) -> dict[str, Any]:
    return {
        "protocol": "http",
        "port": HTTP_PORT,
        "log_level": spec.log_level,
        "registry_config": CONFIG_PATH,
    }


def render_registry_configmap(spec: StackSpec) -> Object:
    """``<instance>-registry``: ``config.yml`` (registry) and ``ctl-config.yml`` (registryctl)."""
    return config_map(
        spec,
        REGISTRY,
        object_name(spec, REGISTRY),
        {"config.yml": dump(registry_config(spec)), "ctl-config.yml": dump(registryctl_config(spec))},
    )


def render_registry_secret(spec: StackSpec) -> Object:
    """``<instance>-registry``: http secret (same on every replica), Redis password, storage credentials."""
    data = {
        "REGISTRY_HTTP_SECRET": spec.secrets.registry_http_secret,
        "REGISTRY_REDIS_PASSWORD": spec.cache.password,
    }
    data.update(storage_credentials(spec.storage))
    return secret(spec, REGISTRY, object_name(spec, REGISTRY), data)


def render_registry_htpasswd_secret(spec: StackSpec) -> Object:
    """``<instance>-registry-htpasswd``: the bcrypt line core and jobservice authenticate with."""
    line = spec.secrets.registry_htpasswd.rstrip("\n") + "\n"
    return secret(spec, REGISTRY, object_name(spec, REGISTRY, "htpasswd"), {"passwd": line})


def render_registry_deployment(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, REGISTRY)
    registry = container(
        "registry",
        image(spec, "registry-photon"),
        REGISTRY,
        spec.components.registry,
        ports=[container_port("registry", REGISTRY_PORT), container_port(METRICS_PORT_NAME, METRICS_PORT)],
        env_from=[{"secretRef": {"name": name}}],
        mounts=[
            mount("config", CONFIG_PATH, "config.yml"),
            mount("htpasswd", HTPASSWD_PATH, "passwd"),
        ],
        liveness=http_probe("/", REGISTRY_PORT, initial_delay=10),
        readiness=http_probe("/", REGISTRY_PORT, initial_delay=5),
    )
    controller = container(
        "registryctl",
        image(spec, "harbor-registryctl"),
        REGISTRYCTL,
        spec.components.registryctl,
        ports=[container_port("controller", HTTP_PORT)],
        env_from=[{"secretRef": {"name": name}}],
        env=[
            env_from_secret("CORE_SECRET", object_name(spec, CORE), "CORE_SECRET"),
            env_from_secret("JOBSERVICE_SECRET", object_name(spec, JOBSERVICE), "JOBSERVICE_SECRET"),
        ],
        mounts=[
            mount("config", CONFIG_PATH, "config.yml"),
            mount("config", "/etc/registryctl/config.yml", "ctl-config.yml"),
        ],
        liveness=http_probe("/api/health", HTTP_PORT, initial_delay=10),
        readiness=http_probe("/api/health", HTTP_PORT, initial_delay=5),
    )
    volumes = [
        config_map_volume("config", name),
        secret_volume("htpasswd", object_name(spec, REGISTRY, "htpasswd")),
    ]
    template = pod_template(spec, REGISTRY, [registry, controller], volumes, checksums)
    return deployment(spec, REGISTRY, name, spec.components.registry.replicas, template)


def render_registry_service(spec: StackSpec) -> Object:
    return service(
        spec,
        REGISTRY,
        object_name(spec, REGISTRY),
        [
            ("http-registry", REGISTRY_PORT, "registry"),
            ("http-controller", HTTP_PORT, "controller"),
            (METRICS_PORT_NAME, METRICS_PORT, METRICS_PORT_NAME),
        ],
    )
