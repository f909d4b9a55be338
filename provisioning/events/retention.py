"""Forgetting old events: past ``RUN_RETENTION_DAYS`` an event and its deliveries (with their attempts) go.

A delivery still pending then has long been given up (the last retry is at most hours after the event), and the
live stream keeps its own bounded copy in Redis. Each registry's sequence counter stays, so numbers never repeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from provisioning.models import Event
from provisioning.services.history import delete_in_batches


def prune_events(now: datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.RUN_RETENTION_DAYS)
    return delete_in_batches(Event.objects.filter(time__lt=cutoff))
