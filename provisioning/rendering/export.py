"""Exports for people: a multi-document YAML manifest, and Helm values shaped like goharbor/harbor-helm's.

The Helm values never contain a secret: each one is the ``REDACTED`` placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.rendering.ingress import ingress_annotations
from provisioning.rendering.names import METRICS_PATH, METRICS_PORT, REGISTRY_USER, tls_secret_name
from provisioning.rendering.pods import resources
from provisioning.rendering.redis_urls import (
    DB_CACHE_LAYER,
    DB_CORE,
    DB_HARBOR,
    DB_JOBSERVICE,
    DB_REGISTRY,
    DB_TRIVY,
    redis_endpoint,
)
from provisioning.rendering.spec import ComponentSpec, StackSpec, StorageSpec
from provisioning.rendering.yaml_text import dump_all

REDACTED = "<redacted>"


def render_yaml(objects: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML of ``objects`` in their order; byte-identical for identical objects."""
    return dump_all(objects)


def _component(
    spec: StackSpec, sizing: ComponentSpec, image: str, *, replicas: bool = True
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "image": {"repository": f"{spec.image_registry}/{image}", "tag": f"v{spec.harbor_version}"}
    }
    if replicas:
        values["replicas"] = sizing.replicas
    values["resources"] = resources(sizing)
    values["nodeSelector"] = dict(sorted(spec.node_selector.items()))
    values["tolerations"] = [dict(toleration) for toleration in spec.tolerations]
    return values


def _image_storage(storage: StorageSpec) -> dict[str, Any]:
    if storage.kind == "s3":
        s3: dict[str, Any] = {
            "region": storage.region,
            "bucket": storage.bucket,
            "accesskey": REDACTED,
            "secretkey": REDACTED,
            "secure": storage.secure,
            "v4auth": storage.v4auth,
        }
        if storage.endpoint:
            s3["regionendpoint"] = storage.endpoint
        if storage.root_directory:
            s3["rootdirectory"] = storage.root_directory
        return {"disableredirect": True, "type": "s3", "s3": s3}
    swift = {
        "authurl": storage.auth_url,
        "username": storage.username,
        "password": REDACTED,
        "container": storage.container,
        "region": storage.region,
        "tenant": storage.tenant,
        "domain": storage.domain,
        "authversion": storage.auth_version,
    }
    return {"disableredirect": True, "type": "swift", "swift": swift}


def render_helm_values(spec: StackSpec) -> dict[str, Any]:
    """Values for goharbor/harbor-helm describing this stack, every secret replaced by ``<redacted>``.

    A managed Redis is exported as an external Redis at its in-namespace Service.
    """
    endpoint = redis_endpoint(spec)
    components = spec.components
    return {
        "expose": {
            "type": "ingress",
            "tls": {"enabled": True, "certSource": "secret", "secret": {"secretName": tls_secret_name(spec)}},
            "ingress": {
                "hosts": {"core": spec.hostname},
                "className": spec.ingress_class,
                "annotations": ingress_annotations(spec),
            },
        },
        "externalURL": spec.external_url.rstrip("/"),
        "persistence": {
            "enabled": True,
            "resourcePolicy": "keep",
            "persistentVolumeClaim": {
                "trivy": {"storageClass": spec.storage_class, "size": spec.trivy_storage}
            },
            "imageChartStorage": _image_storage(spec.storage),
        },
        "logLevel": spec.log_level,
        "harborAdminPassword": REDACTED,
        "secretKey": REDACTED,
        "metrics": {
            "enabled": True,
            "core": {"path": METRICS_PATH, "port": METRICS_PORT},
            "registry": {"path": METRICS_PATH, "port": METRICS_PORT},
            "jobservice": {"path": METRICS_PATH, "port": METRICS_PORT},
            "exporter": {"path": METRICS_PATH, "port": METRICS_PORT},
        },
        "portal": _component(spec, components.portal, "harbor-portal"),
        "core": {
            **_component(spec, components.core, "harbor-core"),
            "secret": REDACTED,
            "xsrfKey": REDACTED,
            "tokenKey": REDACTED,
            "tokenCert": REDACTED,
        },
        "jobservice": {
            **_component(spec, components.jobservice, "harbor-jobservice"),
            "jobLoggers": ["database", "stdout"],
            "secret": REDACTED,
        },
        "registry": {
            "replicas": components.registry.replicas,
            "registry": _component(spec, components.registry, "registry-photon", replicas=False),
            "controller": _component(spec, components.registryctl, "harbor-registryctl", replicas=False),
            "secret": REDACTED,
            "credentials": {"username": REGISTRY_USER, "password": REDACTED, "htpasswdString": REDACTED},
            "upload_purging": {"enabled": True, "age": "168h", "interval": "24h", "dryrun": False},
        },
        "trivy": {
            "enabled": spec.trivy_enabled,
            **_component(spec, components.trivy, "trivy-adapter-photon"),
        },
        "exporter": _component(spec, components.exporter, "harbor-exporter"),
        "database": {
            "type": "external",
            "external": {
                "host": spec.database.host,
                "port": str(spec.database.port),
                "username": spec.database.username,
                "password": REDACTED,
                "coreDatabase": spec.database.name,
                "sslmode": spec.database.sslmode,
            },
            "maxIdleConns": spec.database.max_idle_conns,
            "maxOpenConns": spec.database.max_open_conns,
        },
        "redis": {
            "type": "external",
            "tlsOptions": {"enable": endpoint.tls},
            "external": {
                "addr": endpoint.addr,
                "sentinelMasterSet": endpoint.sentinel_master,
                "coreDatabaseIndex": str(DB_CORE),
                "jobserviceDatabaseIndex": str(DB_JOBSERVICE),
                "registryDatabaseIndex": str(DB_REGISTRY),
                "trivyAdapterIndex": str(DB_TRIVY),
                "harborDatabaseIndex": str(DB_HARBOR) if spec.redis_cache_databases else "",
                "cacheLayerDatabaseIndex": str(DB_CACHE_LAYER) if spec.redis_cache_databases else "",
                "username": endpoint.username,
                "password": REDACTED,
            },
        },
    }
