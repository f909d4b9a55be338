"""Component identifiers, deterministic object names and in-cluster URLs of one Harbor instance."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from provisioning.rendering.spec import StackSpec

CORE = "core"
PORTAL = "portal"
REGISTRY = "registry"
REGISTRYCTL = "registryctl"
JOBSERVICE = "jobservice"
TRIVY = "trivy"
EXPORTER = "exporter"
REDIS = "redis"
NAMESPACE = "namespace"
QUOTA = "quota"
NETWORK = "network"
INGRESS = "ingress"

HARBOR_COMPONENTS = (CORE, PORTAL, REGISTRY, JOBSERVICE, TRIVY, EXPORTER)
"""Components that run Harbor images, in apply order."""

REGISTRY_USER = "harbor_registry_user"
HTPASSWD_REALM = "harbor-registry-basic-realm"
JOB_NAMESPACE = "harbor_job_service_namespace"

HTTP_PORT = 8080
REGISTRY_PORT = 5000
METRICS_PORT = 8001
METRICS_PATH = "/metrics"
METRICS_PORT_NAME = "http-metrics"
REDIS_PORT = 6379


def object_name(spec: StackSpec, component: str, suffix: str = "") -> str:
    """``<instance>-<component>[-<suffix>]``."""
    return f"{spec.instance}-{component}-{suffix}" if suffix else f"{spec.instance}-{component}"


def tls_secret_name(spec: StackSpec) -> str:
    """The Secret cert-manager writes the ingress certificate into (not rendered, not labelled by us)."""
    return f"{spec.instance}-tls"


def core_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, CORE)}:80"


def jobservice_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, JOBSERVICE)}"


def portal_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, PORTAL)}"


def registry_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, REGISTRY)}:{REGISTRY_PORT}"


def registry_controller_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, REGISTRY)}:{HTTP_PORT}"


def token_service_url(spec: StackSpec) -> str:
    return f"{core_url(spec)}/service/token"


def trivy_adapter_url(spec: StackSpec) -> str:
    return f"http://{object_name(spec, TRIVY)}:{HTTP_PORT}"


def redis_service_host(spec: StackSpec) -> str:
    """Host of the managed Redis Service inside the namespace."""
    return object_name(spec, REDIS)
