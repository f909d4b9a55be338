"""Harbor exporter: business metrics (projects, artifacts, quotas, jobs) read from the database and Redis."""

from __future__ import annotations

from provisioning.rendering.names import (
    CORE,
    EXPORTER,
    JOB_NAMESPACE,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
    object_name,
)
from provisioning.rendering.objects import Checksums, Object, config_map, secret, service
from provisioning.rendering.pods import (
    container,
    container_port,
    deployment,
    http_probe,
    image,
    pod_template,
)
from provisioning.rendering.redis_urls import DB_JOBSERVICE, redis_endpoint, redis_url
from provisioning.rendering.spec import StackSpec


def exporter_env(spec: StackSpec) -> dict[str, str]:
    db = spec.database
    return {
        "LOG_LEVEL": spec.log_level,
        "HARBOR_EXPORTER_PORT": str(METRICS_PORT),
        "HARBOR_EXPORTER_METRICS_PATH": METRICS_PATH,
        "HARBOR_EXPORTER_METRICS_ENABLED": "true",
        "HARBOR_EXPORTER_CACHE_TIME": "23",
        "HARBOR_EXPORTER_CACHE_CLEAN_INTERVAL": "14400",
        "HARBOR_METRIC_NAMESPACE": "harbor",
        "HARBOR_METRIC_SUBSYSTEM": "exporter",
        "HARBOR_REDIS_NAMESPACE": JOB_NAMESPACE,
        "HARBOR_REDIS_TIMEOUT": "3600",
        "HARBOR_SERVICE_SCHEME": "http",
        "HARBOR_SERVICE_HOST": object_name(spec, CORE),
        "HARBOR_SERVICE_PORT": "80",
        "HARBOR_DATABASE_TYPE": "postgresql",
        "HARBOR_DATABASE_HOST": db.host,
        "HARBOR_DATABASE_PORT": str(db.port),
        "HARBOR_DATABASE_USERNAME": db.username,
        "HARBOR_DATABASE_DBNAME": db.name,
        "HARBOR_DATABASE_SSLMODE": db.sslmode,
        "HARBOR_DATABASE_MAX_IDLE_CONNS": str(db.max_idle_conns),
        "HARBOR_DATABASE_MAX_OPEN_CONNS": str(db.max_open_conns),
    }


def render_exporter_env_configmap(spec: StackSpec) -> Object:
    """``<instance>-exporter-env``."""
    return config_map(spec, EXPORTER, object_name(spec, EXPORTER, "env"), exporter_env(spec))


def render_exporter_secret(spec: StackSpec) -> Object:
    """``<instance>-exporter``: admin and database passwords, the jobservice Redis URL (db 1)."""
    return secret(
        spec,
        EXPORTER,
        object_name(spec, EXPORTER),
        {
            "HARBOR_ADMIN_PASSWORD": spec.secrets.admin_password,
            "HARBOR_DATABASE_PASSWORD": spec.database.password,
            "HARBOR_REDIS_URL": redis_url(redis_endpoint(spec), DB_JOBSERVICE, idle_timeout=False),
        },
    )


def render_exporter_deployment(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, EXPORTER)
    exporter = container(
        "exporter",
        image(spec, "harbor-exporter"),
        EXPORTER,
        spec.components.exporter,
        ports=[container_port(METRICS_PORT_NAME, METRICS_PORT)],
        env_from=[
            {"configMapRef": {"name": object_name(spec, EXPORTER, "env")}},
            {"secretRef": {"name": name}},
        ],
        liveness=http_probe("/", METRICS_PORT, initial_delay=30),
        readiness=http_probe("/", METRICS_PORT, initial_delay=10),
    )
    template = pod_template(spec, EXPORTER, [exporter], [], checksums)
    return deployment(spec, EXPORTER, name, spec.components.exporter.replicas, template)


def render_exporter_service(spec: StackSpec) -> Object:
    return service(
        spec, EXPORTER, object_name(spec, EXPORTER), [(METRICS_PORT_NAME, METRICS_PORT, METRICS_PORT_NAME)]
    )
