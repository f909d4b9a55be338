"""Webhook deliveries: each registry event reaches the receiver as a signed CloudEvent, in order, retried after a
failure; a change that rolls back sends nothing."""

from __future__ import annotations

import json
import time

import pytest
from django.db import transaction

from provisioning.choices import Via
from provisioning.events import signing
from provisioning.events.delivery import deliver_due
from provisioning.events.hooks import phase_changed
from provisioning.models import DeliveryAttempt, DeliveryState, Event, Registry, WebhookDelivery
from provisioning.services import registries as services
from tests import factories
from tests.events.conftest import SECRET

pytestmark = pytest.mark.django_db


def test_each_event_arrives_signed_and_in_order(subscription, receiver, operator):
    registry = factories.registry(actor=operator)
    services.suspend(registry, actor=operator, via=Via.API)
    registry.refresh_from_db()
    services.resume(registry, actor=operator, via=Via.API)
    phase_changed(registry.pk, "Pending", "Provisioning", run_id=None)

    assert deliver_due(subscription.pk) is None

    events = receiver.events()
    assert [e["type"] for e in events] == [
        "io.harbor-console.registry.created",
        "io.harbor-console.registry.suspended",
        "io.harbor-console.registry.resumed",
        "io.harbor-console.registry.phase_changed",
    ]
    assert [e["registrysequence"] for e in events] == [1, 2, 3, 4]
    assert {e["subject"] for e in events} == {str(registry.pk)}
    assert {e["specversion"] for e in events} == {"1.0"}
    assert len({e["id"] for e in events}) == 4
    assert events[1]["data"]["actor"] == operator.username
    assert events[3]["data"] == {"from": "Pending", "to": "Provisioning", "run": None}
    for headers, body in receiver.received:
        assert headers["content-type"].startswith("application/cloudevents+json")
        assert signing.verify(
            SECRET,
            headers[signing.TIMESTAMP_HEADER.lower()],
            body,
            headers[signing.SIGNATURE_HEADER.lower()],
            now=time.time(),
        )
        assert not signing.verify(
            "another-secret-entirely",
            headers[signing.TIMESTAMP_HEADER.lower()],
            body,
            headers[signing.SIGNATURE_HEADER.lower()],
            now=time.time(),
        )
    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {DeliveryState.DELIVERED}


def test_a_signature_is_refused_once_the_timestamp_is_old():
    body = b'{"a":1}'
    sent = int(time.time()) - 3600
    given = signing.signature(SECRET, sent, body)
    assert signing.verify(SECRET, str(sent), body, given, now=sent + 10)
    assert not signing.verify(SECRET, str(sent), body, given, now=time.time())


def test_a_failed_delivery_is_retried_and_holds_back_the_next_event(subscription, receiver, operator):
    registry = factories.registry(actor=operator)
    services.suspend(registry, actor=operator, via=Via.API)
    receiver.answers = [500]

    delay = deliver_due(subscription.pk)

    assert delay is not None and delay > 0  # a retry is due later, with backoff
    assert len(receiver.received) == 1  # the suspended event waits behind the created one
    first = WebhookDelivery.objects.get(event__sequence=1)
    assert first.state == DeliveryState.PENDING and first.attempts == 1
    attempt = DeliveryAttempt.objects.get(delivery=first)
    assert attempt.status_code == 500 and "500" in attempt.error and attempt.duration_ms >= 0

    WebhookDelivery.objects.update(next_attempt_at=None)  # the backoff has passed
    assert deliver_due(subscription.pk) is None

    sequences = [e["registrysequence"] for e in receiver.events()]
    assert sequences == [1, 1, 2]
    assert list(first.attempt_log.order_by("number").values_list("status_code", flat=True)) == [500, 204]


def test_a_delivery_is_given_up_after_the_last_attempt(subscription, receiver, settings, operator):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    factories.registry(actor=operator)
    receiver.answers = [503, 503]
    deliver_due(subscription.pk)
    WebhookDelivery.objects.update(next_attempt_at=None)
    assert deliver_due(subscription.pk) is None
    assert WebhookDelivery.objects.get().state == DeliveryState.FAILED


def test_event_types_filter_what_a_subscription_receives(subscription, receiver, operator):
    subscription.event_types = ["io.harbor-console.registry.suspended"]
    subscription.save()
    registry = factories.registry(actor=operator)
    services.suspend(registry, actor=operator, via=Via.API)
    deliver_due(subscription.pk)
    assert [e["type"] for e in receiver.events()] == ["io.harbor-console.registry.suspended"]


def test_a_rolled_back_change_emits_nothing(subscription, operator):
    registry = factories.registry(actor=operator)
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.suspend(registry, actor=operator, via=Via.API)
        raise RuntimeError("the request failed after the change")
    assert Event.objects.count() == before
    services.suspend(registry, actor=operator, via=Via.API)
    sequences = Event.objects.filter(registry_id=registry.pk).order_by("sequence")
    assert list(sequences.values_list("sequence", flat=True)) == [1, 2]  # the rolled-back number is reused


def test_events_are_published_only_after_the_commit(
    subscription, operator, django_capture_on_commit_callbacks, monkeypatch
):
    published: list[list[str]] = []
    monkeypatch.setattr(
        "provisioning.events.stream.append", lambda events: published.append([e.type for e in events])
    )
    monkeypatch.setattr("provisioning.events.tasks.enqueue_deliveries", lambda ids: None)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        factories.registry(actor=operator)
        assert published == []
    assert callbacks and published == [["io.harbor-console.registry.created"]]


def test_a_delivery_to_a_refused_address_is_logged_not_sent(subscription, operator):
    type(subscription).objects.filter(pk=subscription.pk).update(target_url="http://169.254.169.254/latest/")
    factories.registry(actor=operator)
    deliver_due(subscription.pk)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.status_code is None and "169.254.169.254" in attempt.error


def test_the_envelope_is_json_that_names_the_installation(subscription, receiver, operator, settings):
    settings.CONSOLE_URL = "https://console.example.test/"
    registry = factories.registry(actor=operator)
    deliver_due(subscription.pk)
    headers, body = receiver.received[0]
    event = json.loads(body)
    assert event["source"].startswith("https://console.example.test/installations/")
    assert event["subject"] == str(registry.pk)
    assert headers[signing.EVENT_ID_HEADER.lower()] == event["id"]


def test_events_past_the_retention_are_pruned_with_their_deliveries(subscription, operator, settings):
    from datetime import timedelta

    from django.utils import timezone

    from provisioning.tasks import prune_history

    registry = factories.registry(actor=operator)
    services.suspend(registry, actor=operator, via=Via.API)
    old = timezone.now() - timedelta(days=settings.RUN_RETENTION_DAYS + 1)
    Event.objects.filter(sequence=1).update(time=old)
    assert prune_history()["events"] == 1
    assert list(Event.objects.values_list("sequence", flat=True)) == [2]
    assert WebhookDelivery.objects.count() == 1
    services.resume(Registry.objects.get(pk=registry.pk), actor=operator, via=Via.API)
    assert Event.objects.order_by("-sequence").values_list("sequence", flat=True)[0] == 3


@pytest.mark.parametrize(
    ("trigger", "status", "updated", "reported"),
    [
        ("sweep", "succeeded", 0, False),
        ("sweep", "succeeded", 2, True),
        ("sweep", "failed", 0, True),
        ("follow_up", "succeeded", 0, False),
        ("manual", "succeeded", 0, True),
        ("action", "succeeded", 0, True),
    ],
)
def test_runs_the_console_starts_by_itself_are_reported_when_they_did_something(
    trigger, status, updated, reported
):
    from provisioning.events.hooks import run_finished
    from provisioning.models import ReconcileRun

    registry = factories.registry()
    run = ReconcileRun.objects.create(registry=registry, trigger=trigger, status=status, updated=updated)
    run_finished(run)
    assert Event.objects.filter(type="io.harbor-console.run.finished").exists() is reported
