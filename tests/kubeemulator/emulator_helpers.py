"""Helpers shared by the emulator tests (a module of its own: test modules must not import conftest)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from kubeemulator import KubeEmulator

APPLY = "application/apply-patch+yaml"


class FakeClock:
    """A monotonic clock that moves only when told to, for deterministic readiness tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def deployment(
    name: str = "core", namespace: str = "tenant-a", replicas: int = 2, **labels: str
) -> dict[str, Any]:
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {**selector, **labels}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": selector},
                "spec": {"containers": [{"name": name, "image": "goharbor/harbor-core:v2.13.0"}]},
            },
        },
    }


def certificate(
    issuer: str = "letsencrypt", kind: str = "ClusterIssuer", name: str = "tls"
) -> dict[str, Any]:
    """A cert-manager Certificate for ``a.example.com`` issued by ``issuer`` (the seed's ClusterIssuer by default)."""
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name},
        "spec": {
            "secretName": name,
            "dnsNames": ["a.example.com"],
            "issuerRef": {"name": issuer, "kind": kind},
        },
    }


def after(seconds: float, action: Callable[[], object]) -> threading.Thread:
    """Run ``action`` in a thread ``seconds`` from now (a change while a watch is open)."""

    def run() -> None:
        time.sleep(seconds)
        action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def admin(emulator: KubeEmulator, method: str, path: str, body: Any = None) -> Any:
    """Call the emulator's ``/_emulator`` control API over HTTP."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{emulator.url}/_emulator/{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())
