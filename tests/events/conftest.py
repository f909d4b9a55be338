"""Fixtures of the event tests: a subscription pointing at the webhook receiver (``tests/fixtures/webhooks.py``)."""

from __future__ import annotations

import pytest

from provisioning.models import WebhookSubscription
from tests.api.conftest import client_for  # noqa: F401 - the API tests' persona clients
from tests.fixtures.webhooks import SECRET, Receiver  # noqa: F401 - imported by the event tests


@pytest.fixture
def subscription(db, receiver, admin_user) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="pipeline", target_url=receiver.url, secret=SECRET, owner=admin_user
    )
