"""Secrets are encrypted at rest: the raw database row never holds the plaintext."""

import pytest
from django.db import connection

from provisioning.models import Cluster, RegistrySecret
from provisioning.services.secrets import ensure_registry_secrets
from tests import factories

pytestmark = pytest.mark.django_db


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - names are literals
        return cursor.fetchone()[0]


def test_cluster_token_is_not_stored_in_plaintext():
    cluster = factories.cluster(token="very-secret-token-123")
    raw = raw_column("provisioning_cluster", "token", cluster.pk)
    assert "very-secret-token-123" not in raw
    assert raw.startswith("fernet:")
    assert Cluster.objects.get(pk=cluster.pk).token == "very-secret-token-123"


def test_generated_registry_secrets_are_encrypted_and_stable():
    registry = factories.registry()
    first = ensure_registry_secrets(registry)
    again = ensure_registry_secrets(registry)
    assert first == again, "secrets are generated once, not on every call"
    for secret in RegistrySecret.objects.filter(registry=registry):
        raw = raw_column("provisioning_registrysecret", "value", secret.pk)
        assert secret.value not in raw
        assert raw.startswith("fernet:")
    assert len(first["core_secret"]) == 16
    assert len(first["csrf_key"]) == 32
    assert first["registry_htpasswd"].startswith("harbor_registry_user:$2")


def test_binding_password_is_encrypted():
    registry = factories.registry()
    db = registry.database
    db.password = "tenant-db-password"
    db.save()
    raw = raw_column("provisioning_databasebinding", "password", db.pk)
    assert "tenant-db-password" not in raw
