"""Builders for the plain-dict shape of Kubernetes objects, and content hashes of config objects."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from provisioning.rendering.labels import object_labels, selector_labels

if TYPE_CHECKING:
    from provisioning.rendering.spec import StackSpec

Object = dict[str, Any]
Checksums = Mapping[tuple[str, str], str]
"""Content hash of each ConfigMap and Secret, keyed by ``(kind, name)``."""


def metadata(
    spec: StackSpec, component: str, name: str, annotations: Mapping[str, str] | None = None
) -> Object:
    meta: Object = {"name": name, "namespace": spec.namespace, "labels": object_labels(spec, component)}
    if annotations:
        meta["annotations"] = dict(annotations)
    return meta


def config_map(spec: StackSpec, component: str, name: str, data: Mapping[str, str]) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(spec, component, name),
        "data": dict(data),
    }


def secret(spec: StackSpec, component: str, name: str, data: Mapping[str, str]) -> Object:
    """An Opaque Secret; values are base64-encoded here so the object is what the API server stores."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(spec, component, name),
        "type": "Opaque",
        "data": {key: base64.b64encode(value.encode()).decode("ascii") for key, value in data.items()},
    }


def service(spec: StackSpec, component: str, name: str, ports: Iterable[tuple[str, int, str]]) -> Object:
    """A ClusterIP Service selecting ``component``; ports are ``(name, port, target port name)``."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(spec, component, name),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(spec, component),
            "ports": [
                {"name": port_name, "port": port, "targetPort": target, "protocol": "TCP"}
                for port_name, port, target in ports
            ],
        },
    }


def content_hash(obj: Mapping[str, Any]) -> str:
    """SHA-256 of a ConfigMap's or Secret's payload (``data``, ``binaryData``, ``stringData``)."""
    payload = {key: obj[key] for key in ("data", "binaryData", "stringData") if key in obj}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def config_checksums(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], str]:
    """Hashes of every ConfigMap and Secret among ``objects``, for the pod-template annotations."""
    return {
        (obj["kind"], obj["metadata"]["name"]): content_hash(obj)
        for obj in objects
        if obj["kind"] in ("ConfigMap", "Secret")
    }
