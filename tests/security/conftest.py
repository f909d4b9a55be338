"""Fixtures of the security tests: a real HTTPS API server signed by a CA of the test's own, and a server that
accepts connections but never answers."""

from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def certificate(subject: str, issuer_key: Any = None, issuer: x509.Name | None = None, *, ca: bool):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return cert, key


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class TlsApiServer:
    url: str
    ca_pem: str
    other_ca_pem: str


def _resource(name: str, kind: str, namespaced: bool) -> dict[str, Any]:
    return {"name": name, "kind": kind, "namespaced": namespaced, "verbs": ["get", "list"]}


INSTALLED: dict[str, dict[str, Any]] = {
    "/version": {"major": "1", "minor": "31", "gitVersion": "v1.31.4"},
    "/apis/cert-manager.io/v1": {
        "kind": "APIResourceList",
        "groupVersion": "cert-manager.io/v1",
        "resources": [
            _resource("certificates", "Certificate", True),
            _resource("clusterissuers", "ClusterIssuer", False),
        ],
    },
    "/apis/cert-manager.io/v1/clusterissuers/letsencrypt": {
        "kind": "ClusterIssuer",
        "metadata": {"name": "letsencrypt"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    },
    "/apis/networking.k8s.io/v1/ingressclasses/nginx": {
        "kind": "IngressClass",
        "metadata": {"name": "nginx"},
    },
    "/apis/storage.k8s.io/v1/storageclasses": {
        "kind": "StorageClassList",
        "metadata": {},
        "items": [
            {
                "metadata": {
                    "name": "standard",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                }
            }
        ],
    },
}
"""What the stand-in API server answers: its version and the prerequisites of an installed cluster."""


class VersionHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        path = self.path.partition("?")[0]
        if path in INSTALLED:
            code, body = 200, INSTALLED[path]
        else:
            code, body = 404, {"kind": "Status", "reason": "NotFound", "message": "not found"}
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def tls_api_server(tmp_path: Path) -> Iterator[TlsApiServer]:
    """An HTTPS server on 127.0.0.1 answering ``/version``, its certificate signed by a fresh CA."""
    ca_cert, ca_key = certificate("test CA", ca=True)
    other_ca, _ = certificate("another CA", ca=True)
    server_cert, server_key = certificate("127.0.0.1", ca_key, ca_cert.subject, ca=False)
    (tmp_path / "server.pem").write_text(pem(server_cert))
    (tmp_path / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "server.pem", tmp_path / "server.key")
    server = ThreadingHTTPServer(("127.0.0.1", 0), VersionHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield TlsApiServer(f"https://127.0.0.1:{server.server_address[1]}", pem(ca_cert), pem(other_ca))
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:port`` of a socket that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        listener.close()
