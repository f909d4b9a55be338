"""Fixtures shared by the whole suite: persona users for each role."""

from __future__ import annotations

import pytest

from tests import factories

pytest_plugins = [
    "tests.fixtures.emulator",
    "tests.fixtures.celery_worker",
    "tests.fixtures.prometheus",
    "tests.fixtures.services",
    "tests.fixtures.browser",
]


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
