"""Fixtures of the web console's tests: logged-in clients per role and a small fleet with stated problems."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from provisioning.choices import BindingStatus, ConditionStatus, Phase, WhoseMove
from provisioning.models import Registry
from tests import factories


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer):
    return logged_in(viewer)


@pytest.fixture
def operator_client(operator):
    return logged_in(operator)


@pytest.fixture
def admin_client_(admin_user):
    return logged_in(admin_user)


@pytest.fixture
def stranger_client(stranger):
    return logged_in(stranger)


def database_unreachable(registry: Registry, minutes_ago: int = 7) -> Registry:
    """Put the registry in the state the engine leaves after its database stopped answering."""
    since = (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()
    registry.conditions = [
        {
            "type": "DependenciesReady",
            "status": ConditionStatus.FALSE,
            "reason": "DatabaseUnreachable",
            "message": "The PostgreSQL database did not answer within 3 s: the provider's database service is down.",
            "whose_move": WhoseMove.PROVIDER,
            "since": since,
        },
        {
            "type": "Available",
            "status": ConditionStatus.TRUE,
            "reason": "AllAvailable",
            "message": "Every component is available.",
            "whose_move": "",
            "since": since,
        },
        {
            "type": "Degraded",
            "status": ConditionStatus.TRUE,
            "reason": "DependencyFailing",
            "message": "The registry runs, but its database is failing.",
            "whose_move": WhoseMove.PROVIDER,
            "since": since,
        },
    ]
    registry.phase = Phase.DEGRADED
    registry.save(update_fields=["conditions", "phase"])
    registry.database.record_check(
        BindingStatus.UNREACHABLE, "Connection timed out after 3 s.", WhoseMove.PROVIDER, latency_ms=3000.0
    )
    registry.database.save()
    return registry


@pytest.fixture
def degraded_registry(db):
    return database_unreachable(factories.registry())
