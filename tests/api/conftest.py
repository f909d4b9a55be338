"""Fixtures of the API tests: a client per persona (token or anonymous) and registries in given states."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from provisioning.choices import DesiredState, Phase
from provisioning.models import ApiToken, Registry
from tests import factories

PERSONAS = ("anonymous", "stranger", "viewer", "operator", "admin")


def token_client(user: Any | None) -> APIClient:
    """A client that authenticates with a fresh API token of ``user`` (anonymous when None)."""
    client = APIClient()
    if user is not None:
        _, raw = ApiToken.issue(user, "tests")
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def persona_user(persona: str) -> Any | None:
    """A new user for a persona: None for anonymous, a user in no role group for stranger."""
    if persona == "anonymous":
        return None
    return factories.user(None if persona == "stranger" else persona)


@pytest.fixture
def client_for(db) -> Callable[[str], APIClient]:
    """``client_for("operator")``: a token client of a new user with that role (or none, or anonymous)."""
    return lambda persona: token_client(persona_user(persona))


@pytest.fixture
def admin_api(admin_user) -> APIClient:
    return token_client(admin_user)


@pytest.fixture
def operator_api(operator) -> APIClient:
    return token_client(operator)


@pytest.fixture
def viewer_api(viewer) -> APIClient:
    return token_client(viewer)


@pytest.fixture
def registry(db) -> Registry:
    return factories.registry()


def deleted_registry(days_ago: int = 400, **fields: Any) -> Registry:
    """A registry whose stack is gone, deleted ``days_ago`` days ago: purgeable after the retention period."""
    registry = factories.registry(**fields)
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.DELETED,
        phase=Phase.DELETED,
        deleted_at=timezone.now() - timedelta(days=days_ago),
    )
    registry.refresh_from_db()
    return registry


def suspended_registry(**fields: Any) -> Registry:
    registry = factories.registry(**fields)
    Registry.objects.filter(pk=registry.pk).update(
        desired_state=DesiredState.SUSPENDED, phase=Phase.SUSPENDED
    )
    registry.refresh_from_db()
    return registry


def deployed_registry(**fields: Any) -> Registry:
    """A registry once seen Ready at its version: an upgrade of it is the step-by-step one (here halted at its
    pre-flight, as nothing of it was checked)."""
    registry = factories.registry(**fields)
    Registry.objects.filter(pk=registry.pk).update(
        deployed_version=registry.harbor_version, phase=Phase.READY
    )
    registry.refresh_from_db()
    return registry


def provisioned(registry: Registry) -> Registry:
    """Fill the registry's bindings the way the external services do once they provisioned its share."""
    now = timezone.now()
    database = registry.database
    database.host = "pg.example.internal"
    database.password = "db-password-for-tests"
    database.provisioned_at = now
    database.save()
    cache = registry.cache
    cache.password = "cache-password-for-tests"
    cache.provisioned_at = now
    cache.save()
    storage = registry.storage
    storage.endpoint = "https://s3.example.internal"
    storage.access_key = "AKIATESTS"
    storage.secret_key = "s3-secret-for-tests"
    storage.provisioned_at = now
    storage.save()
    return Registry.objects.get(pk=registry.pk)


def provisioned_registry(**fields: Any) -> Registry:
    return provisioned(factories.registry(**fields))
