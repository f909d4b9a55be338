"""The health verdict in the API: the same for a registry (``health``) and for a row of the fleet overview."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from provisioning.choices import WhoseMove
from provisioning.health import HEALTH_CHOICES, Source


class ReasonSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    whose_move = serializers.ChoiceField(choices=WhoseMove.choices, allow_blank=True)
    origin = serializers.ChoiceField(
        source="source",
        choices=[s.value for s in Source],
        help_text="Who says so: reconciliation (console), the metrics or the cluster.",
    )


class VerdictSerializer(serializers.Serializer[Any]):
    """One verdict from reconciliation, the metrics and the cluster: Unknown whenever evidence is missing."""

    state = serializers.ChoiceField(choices=HEALTH_CHOICES, source="health.value")
    reasons = ReasonSerializer(many=True, help_text="Every reason, worst first; empty when Healthy.")
