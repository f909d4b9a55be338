"""Exposure on the shared ingress controller, and the cert-manager Certificate for its TLS Secret.

Controller-specific annotations live in ``INGRESS_PROFILES`` only: another controller is one more entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from provisioning.rendering.names import CORE, INGRESS, PORTAL, object_name, tls_secret_name
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.spec import StackSpec

CORE_PATHS = ("/api/", "/service/", "/v2/", "/c/")


def nginx_annotations(spec: StackSpec) -> dict[str, str]:
    """ingress-nginx: unlimited body (image layers), TLS only, concurrent connections per client capped."""
    return {
        "nginx.ingress.kubernetes.io/proxy-body-size": "0",
        "nginx.ingress.kubernetes.io/ssl-redirect": "true",
        "nginx.ingress.kubernetes.io/proxy-request-buffering": "off",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "900",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "900",
        "nginx.ingress.kubernetes.io/limit-connections": str(spec.parallel_request_limit),
    }


INGRESS_PROFILES: Mapping[str, Callable[[StackSpec], dict[str, str]]] = {"nginx": nginx_annotations}


def ingress_annotations(spec: StackSpec) -> dict[str, str]:
    try:
        profile = INGRESS_PROFILES[spec.ingress_profile]
    except KeyError:
        known = ", ".join(sorted(INGRESS_PROFILES))
        message = f"ingress profile {spec.ingress_profile!r} is unknown; known profiles: {known}."
        raise ValueError(message) from None
    return profile(spec)


def _path(path: str, service_name: str) -> Object:
    return {
        "path": path,
        "pathType": "Prefix",
        "backend": {"service": {"name": service_name, "port": {"number": 80}}},
    }


def render_ingress(spec: StackSpec) -> Object:
    core = object_name(spec, CORE)
    paths = [_path(path, core) for path in CORE_PATHS]
    paths.append(_path("/", object_name(spec, PORTAL)))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata(spec, INGRESS, spec.instance, ingress_annotations(spec)),
        "spec": {
            "ingressClassName": spec.ingress_class,
            "tls": [{"hosts": [spec.hostname], "secretName": tls_secret_name(spec)}],
            "rules": [{"host": spec.hostname, "http": {"paths": paths}}],
        },
    }


def render_certificate(spec: StackSpec) -> Object:
    """cert-manager ``Certificate``: lifetime and renewal left to the issuer, a new key on each renewal."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": metadata(spec, INGRESS, spec.instance),
        "spec": {
            "secretName": tls_secret_name(spec),
            "dnsNames": [spec.hostname],
            "issuerRef": {"name": spec.cert_issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        },
    }
