"""Writing events in the transaction of the change they report, and publishing them once it commits.

Each registry's events are numbered by an upsert on its :class:`EventSequence` row: the row stays locked until the
transaction ends, so numbers follow the order in which changes of one registry commit, and a rolled-back change
takes its number (and its event and deliveries) with it. Any number of registries costs the same four queries.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from provisioning.events import stream, types
from provisioning.models import Event, EventSequence, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """An event to write: the registry it is about, its short type (``registry.created``) and its data."""

    registry_id: int
    type: str
    data: dict[str, Any]


def next_sequences(counts: dict[int, int]) -> dict[int, int]:
    """Reserve ``counts[registry]`` numbers per registry; returns the last number reserved for each."""
    table = connection.ops.quote_name(EventSequence._meta.db_table)
    ids = sorted(counts)  # one lock order for every transaction
    values = ", ".join(["(%s, %s)"] * len(ids))
    params: list[int] = [n for registry_id in ids for n in (registry_id, counts[registry_id])]
    insert = f"INSERT INTO {table} (registry_id, last) VALUES {values} "  # noqa: S608 - placeholders only
    upsert = f"ON CONFLICT (registry_id) DO UPDATE SET last = {table}.last + excluded.last "
    sql = insert + upsert + "RETURNING registry_id, last"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {int(registry_id): int(last) for registry_id, last in cursor.fetchall()}


def emit(pending: Sequence[Pending]) -> list[Event]:
    """Write the events and their webhook deliveries; publish them after the commit."""
    if not pending:
        return []
    now = timezone.now()
    with transaction.atomic():
        counts = Counter(item.registry_id for item in pending)
        last = next_sequences(dict(counts))
        given: Counter[int] = Counter()
        events = []
        for item in pending:
            given[item.registry_id] += 1
            sequence = last[item.registry_id] - counts[item.registry_id] + given[item.registry_id]
            events.append(
                Event(
                    registry_id=item.registry_id,
                    sequence=sequence,
                    type=types.full(item.type),
                    time=now,
                    data=item.data,
                )
            )
        Event.objects.bulk_create(events)
        subscriptions = list(WebhookSubscription.objects.filter(active=True).only("id", "event_types"))
        deliveries = [
            WebhookDelivery(subscription=subscription, event=event, registry_id=event.registry_id)
            for event in events
            for subscription in subscriptions
            if subscription.wants(event.type)
        ]
        WebhookDelivery.objects.bulk_create(deliveries)
        subscribers = sorted({delivery.subscription_id for delivery in deliveries})
        transaction.on_commit(lambda: publish(events, subscribers))
    return events


def publish(events: list[Event], subscribers: list[int]) -> None:
    """After the commit: append to the live stream and queue the deliveries (a failure here is logged; the
    deliveries stay pending and go with the next event of their subscription)."""
    try:
        stream.append(events)
    except Exception:  # the change is committed; the stream is best effort
        logger.warning("could not append %d events to the event stream", len(events), exc_info=True)
    if subscribers:
        from provisioning.events.tasks import enqueue_deliveries

        try:
            enqueue_deliveries(subscribers)
        except Exception:  # the broker is down; the rows wait for the next event
            logger.warning("could not queue webhook deliveries", exc_info=True)
