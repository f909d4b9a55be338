"""Fixtures shared by the whole suite: the rows migrations seed, and persona users for each role."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from provisioning.models import installation_id
from provisioning.models.plans import seed_connection_limits
from tests import factories

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.celery_worker",
    "tests.fixtures.prometheus",
    "tests.fixtures.services",
    "tests.fixtures.browser",
    "tests.fixtures.watcher",
    "tests.fixtures.webhooks",
]


DB_FIXTURES = {"db", "transactional_db", "live_server"}
SEED_MIGRATIONS = (
    "provisioning.migrations.0002_roles_and_plans",
    "provisioning.migrations.0009_b_plan_ceilings",
)


@pytest.fixture(autouse=True)
def _migrated_rows(request):
    """Every database test starts with the role groups and standard plans the data migration creates, even after
    a transactional test flushed the tables (idempotent get-or-create)."""
    if request.node.get_closest_marker("django_db") is None and not DB_FIXTURES & set(request.fixturenames):
        return
    request.getfixturevalue("_django_db_helper")
    for migration in SEED_MIGRATIONS:
        importlib.import_module(migration).forwards(apps, None)
    seed_connection_limits()
    installation_id()  # the row again after a flush (same id: INSTALLATION_ID), and the per-process cache warm


@pytest.fixture
def viewer(db):
    return factories.user("viewer")


@pytest.fixture
def operator(db):
    return factories.user("operator")


@pytest.fixture
def admin_user(db):
    return factories.user("admin")


@pytest.fixture
def stranger(db):
    """Logged in, but in no role group."""
    return factories.user(None)
