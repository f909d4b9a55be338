"""Harbor jobservice: replication, garbage collection, scans and other background jobs."""

from __future__ import annotations

from typing import Any

from provisioning.rendering.names import (
    CORE,
    HTTP_PORT,
    JOB_NAMESPACE,
    JOBSERVICE,
    METRICS_PATH,
    METRICS_PORT,
    METRICS_PORT_NAME,
    REGISTRY_USER,
    core_url,
    object_name,
    registry_controller_url,
    registry_url,
    token_service_url,
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
)
from provisioning.rendering.redis_urls import DB_JOBSERVICE, redis_endpoint, redis_url
from provisioning.rendering.spec import StackSpec
from provisioning.rendering.versions import harbor_release
from provisioning.rendering.yaml_text import dump

STATS_PATH = "/api/v1/stats"
MAX_JOB_WORKERS = 10


def jobservice_config(spec: StackSpec) -> dict[str, Any]:
    """``config.yml`` as data. The Redis URL here has no credentials: ``JOB_SERVICE_POOL_REDIS_URL`` from the
    Secret overrides it. Job logs go to the database so they survive pod restarts without a volume."""
    level = spec.log_level.upper()
    return {
        "protocol": "http",
        "port": HTTP_PORT,
        "worker_pool": {
            "workers": MAX_JOB_WORKERS,
            "backend": "redis",
            "redis_pool": {
                "redis_url": redis_url(
                    redis_endpoint(spec), DB_JOBSERVICE, idle_timeout=False, credentials=False
                ),
                "namespace": JOB_NAMESPACE,
                "idle_timeout_second": 3600,
            },
        },
        "job_loggers": [
            {"name": "STD_OUTPUT", "level": level},
            {"name": "DB", "level": level, "sweeper": {"duration": 14, "settings": {}}},
        ],
        "loggers": [{"name": "STD_OUTPUT", "level": level}],
        "metric": {"enabled": True, "path": METRICS_PATH, "port": METRICS_PORT},
        "reaper": {"max_update_hours": 24, "max_dangling_hours": 168},
        "max_job_duration_hours": 24,
    }


def jobservice_env(spec: StackSpec) -> dict[str, str]:
    env = {
        "CORE_URL": core_url(spec),
        "TOKEN_SERVICE_URL": token_service_url(spec),
        "REGISTRY_URL": registry_url(spec),
        "REGISTRY_CONTROLLER_URL": registry_controller_url(spec),
        "REGISTRY_CREDENTIAL_USERNAME": REGISTRY_USER,
        "METRIC_NAMESPACE": "harbor",
        "METRIC_SUBSYSTEM": "jobservice",
    }
    if harbor_release(spec.harbor_version).jobservice_log_level_env:
        env["LOG_LEVEL"] = spec.log_level
    return env


def render_jobservice_configmap(spec: StackSpec) -> Object:
    """``<instance>-jobservice``: ``config.yml``."""
    return config_map(
        spec, JOBSERVICE, object_name(spec, JOBSERVICE), {"config.yml": dump(jobservice_config(spec))}
    )


def render_jobservice_env_configmap(spec: StackSpec) -> Object:
    """``<instance>-jobservice-env``: the non-secret environment."""
    return config_map(spec, JOBSERVICE, object_name(spec, JOBSERVICE, "env"), jobservice_env(spec))


def render_jobservice_secret(spec: StackSpec) -> Object:
    """``<instance>-jobservice``: jobservice secret, registry password, credentialled Redis URL."""
    return secret(
        spec,
        JOBSERVICE,
        object_name(spec, JOBSERVICE),
        {
            "JOBSERVICE_SECRET": spec.secrets.jobservice_secret,
            "REGISTRY_CREDENTIAL_PASSWORD": spec.secrets.registry_password,
            "JOB_SERVICE_POOL_REDIS_URL": redis_url(redis_endpoint(spec), DB_JOBSERVICE, idle_timeout=False),
        },
    )


def render_jobservice_deployment(spec: StackSpec, checksums: Checksums) -> Object:
    name = object_name(spec, JOBSERVICE)
    jobservice = container(
        "jobservice",
        image(spec, "harbor-jobservice"),
        JOBSERVICE,
        spec.components.jobservice,
        ports=[container_port("http", HTTP_PORT), container_port(METRICS_PORT_NAME, METRICS_PORT)],
        env_from=[
            {"configMapRef": {"name": object_name(spec, JOBSERVICE, "env")}},
            {"secretRef": {"name": name}},
        ],
        env=[env_from_secret("CORE_SECRET", object_name(spec, CORE), "CORE_SECRET")],
        mounts=[
            mount("config", "/etc/jobservice/config.yml", "config.yml"),
            mount("job-logs", "/var/log/jobs", read_only=False),
            mount("scandata-exports", "/var/scandata_exports", read_only=False),
        ],
        liveness=http_probe(STATS_PATH, HTTP_PORT, initial_delay=20),
        readiness=http_probe(STATS_PATH, HTTP_PORT, initial_delay=10),
    )
    volumes = [
        config_map_volume("config", name),
        empty_dir("job-logs", "1Gi"),
        empty_dir("scandata-exports", "1Gi"),
    ]
    template = pod_template(spec, JOBSERVICE, [jobservice], volumes, checksums)
    return deployment(spec, JOBSERVICE, name, spec.components.jobservice.replicas, template)


def render_jobservice_service(spec: StackSpec) -> Object:
    return service(
        spec,
        JOBSERVICE,
        object_name(spec, JOBSERVICE),
        [("http-jobservice", 80, "http"), (METRICS_PORT_NAME, METRICS_PORT, METRICS_PORT_NAME)],
    )
