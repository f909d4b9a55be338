"""Shared fixtures of the monitoring tests: the reference model of the generated history, logged-in clients."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.fixtures.prometheus import MonitoredFleet
from tests.monitoring.promql_model import Model


@pytest.fixture
def model(monitored_fleet: MonitoredFleet) -> Model:
    return Model(monitored_fleet.prometheus.history)


@pytest.fixture
def viewer_client(viewer) -> Client:
    client = Client()
    client.force_login(viewer)
    return client
