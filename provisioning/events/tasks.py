"""The Celery task that delivers webhooks: one subscription at a time, on ``WEBHOOK_QUEUE``.

Two tasks of one subscription never send at once (a cache lock); a task that finds the lock taken leaves a
request that the holder serves before it stops, so no queued delivery waits for the next event.
"""

from __future__ import annotations

import secrets

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from provisioning.events.delivery import deliver_due

LOCK_SECONDS = 300


def _keys(subscription_id: int) -> tuple[str, str]:
    return f"webhooks:lock:{subscription_id}", f"webhooks:requested:{subscription_id}"


def enqueue_deliveries(subscription_ids: list[int], countdown: float = 0.0) -> None:
    for subscription_id in subscription_ids:
        deliver_webhooks.apply_async(
            args=(subscription_id,), queue=settings.WEBHOOK_QUEUE, countdown=countdown
        )


@shared_task
def deliver_webhooks(subscription_id: int) -> str:
    lock_key, request_key = _keys(subscription_id)
    cache.set(request_key, 1, LOCK_SECONDS)
    delay: float | None = None
    while cache.get(request_key):
        token = secrets.token_hex(8)
        if not cache.add(lock_key, token, LOCK_SECONDS):
            return "busy: the running task serves this request"
        try:
            cache.delete(request_key)
            delay = deliver_due(subscription_id)
        finally:
            if cache.get(lock_key) == token:
                cache.delete(lock_key)
    if delay is not None:
        enqueue_deliveries([subscription_id], countdown=delay)
        return f"more due in {delay:.0f} s"
    return "done"
