"""Registry events, webhook subscriptions and their deliveries (see :mod:`provisioning.events`).

An :class:`Event` is written in the same transaction as the change it reports, so a rolled-back change leaves no
event. Each registry numbers its events 1, 2, 3… (:class:`EventSequence`), which is how a receiver orders them.
A :class:`WebhookDelivery` is one event owed to one subscription; each try of it is a :class:`DeliveryAttempt`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from provisioning.fields import EncryptedTextField


class EventSequence(models.Model):
    """The last sequence number given to an event of a registry (a plain id: purged registries keep theirs)."""

    registry_id = models.BigIntegerField(primary_key=True)
    last = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"registry {self.registry_id}: {self.last}"


class Event(models.Model):
    registry_id = models.BigIntegerField(db_index=True)
    sequence = models.PositiveBigIntegerField(help_text="1, 2, 3… per registry, in the order of the changes.")
    type = models.CharField(max_length=100)
    time = models.DateTimeField()
    data = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["registry_id", "sequence"], name="event_unique_registry_sequence")
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence} of registry {self.registry_id}"


class WebhookSubscription(models.Model):
    name = models.CharField(max_length=100, help_text="What receives the events, e.g. 'order pipeline'.")
    target_url = models.URLField(max_length=2000, help_text="http(s) URL that receives a POST per event.")
    secret = EncryptedTextField(help_text="Signs every delivery (HMAC-SHA256); never shown back.")
    event_types = models.JSONField(
        default=list, blank=True, help_text="The event types to send; empty for every type."
    )
    active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    EDITABLE_FIELDS = ("name", "target_url", "event_types", "active")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class DeliveryState(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (gave up)"


class WebhookDelivery(models.Model):
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    registry_id = models.BigIntegerField(
        help_text="The event's registry: deliveries go in order per registry."
    )
    state = models.CharField(max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="None: due now.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["subscription", "registry_id", "state"])]

    def __str__(self) -> str:
        return f"{self.event} to {self.subscription_id} ({self.state})"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="None: no answer.")
    error = models.TextField(blank=True)
    duration_ms = models.FloatField()

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
