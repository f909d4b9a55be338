"""Generation of a registry's secrets: created once, stored encrypted, changed only by an explicit rotation."""

from __future__ import annotations

import datetime

import bcrypt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from provisioning.crypto import random_string
from provisioning.models import Registry, RegistrySecret, SecretName


def token_keypair(common_name: str) -> tuple[str, str]:
    """An RSA key and a self-signed certificate for Harbor core's token service (identical on every replica)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, cert.public_bytes(serialization.Encoding.PEM).decode()


def htpasswd_line(username: str, password: str) -> str:
    return f"{username}:{bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()}"


REGISTRY_USER = "harbor_registry_user"


def generate_values(registry: Registry) -> dict[str, str]:
    key_pem, cert_pem = token_keypair(f"harbor-token-{registry.namespace}")
    registry_password = random_string(32)
    return {
        SecretName.CORE_SECRET: random_string(16),
        SecretName.JOBSERVICE_SECRET: random_string(16),
        SecretName.REGISTRY_HTTP_SECRET: random_string(16),
        SecretName.CSRF_KEY: random_string(32),
        SecretName.SECRET_KEY: random_string(16),
        SecretName.TOKEN_PRIVATE_KEY: key_pem,
        SecretName.TOKEN_CERTIFICATE: cert_pem,
        SecretName.ADMIN_PASSWORD: random_string(24),
        SecretName.REGISTRY_PASSWORD: registry_password,
        SecretName.REGISTRY_HTPASSWD: htpasswd_line(REGISTRY_USER, registry_password),
    }


def ensure_registry_secrets(registry: Registry) -> dict[str, str]:
    """Create whichever of the registry's secrets are missing; return all of them (plaintext, for rendering)."""
    existing = {s.name: s.value for s in registry.secrets.all()}
    missing = [name for name in SecretName.values if name not in existing]
    if missing:
        generated = generate_values(registry)
        if SecretName.REGISTRY_PASSWORD in missing or SecretName.REGISTRY_HTPASSWD in missing:
            missing += [SecretName.REGISTRY_PASSWORD, SecretName.REGISTRY_HTPASSWD]  # the pair must match
        for name in dict.fromkeys(missing):
            RegistrySecret.objects.update_or_create(
                registry=registry, name=name, defaults={"value": generated[name]}
            )
            existing[name] = generated[name]
    return existing
