"""Audit events: who did what to which object, through which door, with the change (secrets masked)."""

from __future__ import annotations

from rest_framework import serializers

from provisioning.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    url = serializers.HyperlinkedIdentityField(view_name="api:auditevent-detail")
    actor = serializers.CharField(
        source="actor_name", read_only=True, help_text="User name, kept after deletion."
    )
    changes = serializers.DictField(read_only=True, help_text="{field: [old, new]} or the values set.")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "url",
            "at",
            "actor",
            "via",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "registry",
            "changes",
        ]
        read_only_fields = fields
