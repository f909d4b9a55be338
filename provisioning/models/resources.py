"""Managed resources: every Kubernetes object the console owns for a registry."""

from __future__ import annotations

from datetime import datetime

from django.db import models

from provisioning.choices import ResourceState


class ManagedResource(models.Model):
    registry = models.ForeignKey("provisioning.Registry", on_delete=models.CASCADE, related_name="resources")
    api_version = models.CharField(max_length=100)
    kind = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    apply_order = models.PositiveSmallIntegerField(default=0)
    spec_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the last applied manifest.")
    manifest = models.JSONField(
        default=dict,
        blank=True,
        help_text="The manifest last applied, every Secret value redacted: what a preview diffs against.",
    )
    state = models.CharField(max_length=16, choices=ResourceState.choices, default=ResourceState.APPLIED)
    message = models.CharField(max_length=500, blank=True)
    resource_version = models.CharField(max_length=64, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    foreign_changes = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"path", "managers", "repair", "since"}]: fields another field manager owns (kubectl edit...).',
    )

    class Meta:
        ordering = ["registry", "apply_order", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["registry", "api_version", "kind", "namespace", "name"],
                name="managed_resource_unique",
            )
        ]

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    def seen_at(self, stack_read_at: datetime | None) -> datetime | None:
        """When the object was last seen on the cluster. A run that finds it unchanged does not rewrite the row:
        an object still there was seen at the stack's last read (``Registry.stack_read_at``); one that is gone
        keeps the moment it was last found."""
        if self.state == ResourceState.MISSING or stack_read_at is None:
            return self.last_seen_at
        if self.last_seen_at is None:
            return stack_read_at
        return max(self.last_seen_at, stack_read_at)

    @property
    def last_seen(self) -> datetime | None:
        """``seen_at`` the registry's last read of its stack (rows loaded through ``registry.resources`` or a
        prefetch carry their registry: no query)."""
        return self.seen_at(self.registry.stack_read_at)
