"""Delivering one subscription's events: in order per registry, signed, retried with exponential backoff.

A delivery that fails (no answer, or a status other than 2xx) holds back the later events of the same registry
until it succeeds or is given up after ``WEBHOOK_MAX_ATTEMPTS`` tries; other registries' events go on. Every try
is logged (:class:`DeliveryAttempt`: status code, error, duration). Redirects are not followed, and the URL is
checked again before each try (:mod:`.addresses`).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.utils import timezone

from provisioning.events import addresses, cloudevents, signing
from provisioning.models import DeliveryAttempt, DeliveryState, WebhookDelivery, WebhookSubscription

BATCH = 200
MAX_BACKOFF_SECONDS = 3600
USER_AGENT = "harbor-console-webhooks/1"


def backoff_seconds(attempts: int) -> float:
    """After the ``attempts``-th failed try: base × 2^(attempts-1), at most an hour."""
    return float(min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS))


def send(subscription: WebhookSubscription, delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the event once; returns (status code or None, error text or "")."""
    body = cloudevents.body(delivery.event)
    try:
        addresses.check_url(subscription.target_url)
    except addresses.UrlRefused as refused:
        return None, f"URL refused: {refused}"
    headers = {
        "Content-Type": cloudevents.CONTENT_TYPE,
        "User-Agent": USER_AGENT,
        signing.EVENT_ID_HEADER: cloudevents.envelope(delivery.event)["id"],
        **signing.headers(subscription.secret, int(time.time()), body),
    }
    try:
        answer = requests.post(
            subscription.target_url,
            data=body,
            headers=headers,
            timeout=(settings.WEBHOOK_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS),
            allow_redirects=False,
        )
    except requests.RequestException as error:
        return None, f"{type(error).__name__}: {error}"[:1000]
    if 200 <= answer.status_code < 300:
        return answer.status_code, ""
    return answer.status_code, f"The receiver answered {answer.status_code}."


def attempt(subscription: WebhookSubscription, delivery: WebhookDelivery) -> bool:
    """One try, logged; the delivery is then delivered, pending with its next time, or given up."""
    started, sent_at = time.perf_counter(), timezone.now()
    status_code, error = send(subscription, delivery)
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    delivery.attempts += 1
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        sent_at=sent_at,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
    )
    now = timezone.now()
    if not error:
        delivery.state, delivery.finished_at, delivery.next_attempt_at = DeliveryState.DELIVERED, now, None
    elif delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.state, delivery.finished_at, delivery.next_attempt_at = DeliveryState.FAILED, now, None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
    delivery.save(update_fields=["state", "attempts", "finished_at", "next_attempt_at"])
    return not error


def deliver_due(subscription_id: int, *, budget_seconds: float = 60.0) -> float | None:
    """Send what is due for one subscription; returns the seconds until more is due, or None when nothing is."""
    subscription = WebhookSubscription.objects.filter(pk=subscription_id, active=True).first()
    if subscription is None:
        return None
    pending = list(
        WebhookDelivery.objects.filter(subscription=subscription, state=DeliveryState.PENDING)
        .select_related("event")
        .order_by("registry_id", "event__sequence")[:BATCH]
    )
    deadline = time.monotonic() + budget_seconds
    held: set[int] = set()
    next_due: datetime | None = None
    for delivery in pending:
        if delivery.registry_id in held:
            continue
        now = timezone.now()
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > now:
            held.add(delivery.registry_id)
            next_due = min(next_due or delivery.next_attempt_at, delivery.next_attempt_at)
            continue
        if time.monotonic() > deadline:
            return 0.0
        if not attempt(subscription, delivery) and delivery.state == DeliveryState.PENDING:
            held.add(delivery.registry_id)
            due = delivery.next_attempt_at or now
            next_due = min(next_due or due, due)
    if len(pending) == BATCH:
        return 0.0
    if next_due is None:
        return None
    return max((next_due - timezone.now()).total_seconds(), 0.0)
