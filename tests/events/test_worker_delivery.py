"""End to end with a real Celery worker: changes committed through the services reach a local receiver as signed
CloudEvents, in order, the first one retried after the receiver answered 500."""

from __future__ import annotations

import time
import uuid

import pytest

from provisioning.choices import Via
from provisioning.events import signing
from provisioning.models import WebhookSubscription
from provisioning.services import registries as services
from tests import factories
from tests.events.conftest import SECRET

WAIT_SECONDS = 40


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_delivers_each_event_signed_in_order_after_a_retry(
    celery_worker_factory, receiver, settings, operator
):
    queue = f"webhooks-{uuid.uuid4().hex[:8]}"
    celery_worker_factory(queue=queue, env={"WEBHOOK_QUEUE": queue, "WEBHOOK_RETRY_BASE_SECONDS": "1"})
    settings.WEBHOOK_QUEUE = queue
    WebhookSubscription.objects.create(name="e2e", target_url=receiver.url, secret=SECRET)
    receiver.answers = [500]

    registry = factories.registry(actor=operator)
    services.suspend(registry, actor=operator, via=Via.API)

    deadline = time.monotonic() + WAIT_SECONDS
    while len(receiver.received) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    events = receiver.events()
    assert [(e["type"].rsplit(".", 1)[1], e["registrysequence"]) for e in events] == [
        ("created", 1),
        ("created", 1),  # the retry after the 500
        ("suspended", 2),
    ]
    for headers, body in receiver.received:
        assert signing.verify(
            SECRET,
            headers[signing.TIMESTAMP_HEADER.lower()],
            body,
            headers[signing.SIGNATURE_HEADER.lower()],
            now=time.time(),
        )
