"""Prometheus recording rules that make the fleet overview cheap on large fleets, and whether to read them.

Without them the overview's request, 5xx and latency columns rate every core pod's counters on each cache miss;
with them Prometheus keeps one pre-computed series per namespace (:data:`monitoring.queries.RECORDING_RULES`).
Install: ``manage.py monitoring_rules > harbor-console.rules.yml``, list that file under ``rule_files`` in
Prometheus's configuration, then set ``PROMETHEUS_RECORDING_RULES=true`` for the console. Until the setting is
on, the console computes the same figures from the raw counters.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.conf import settings

from monitoring.queries import RECORDING_RULES

GROUP = "harbor-console-fleet"
INTERVAL = "1m"


def enabled() -> bool:
    """Whether the fleet columns read the recording rules (setting ``PROMETHEUS_RECORDING_RULES``)."""
    return bool(settings.PROMETHEUS_RECORDING_RULES)


def rules_document(interval: str = INTERVAL) -> dict[str, Any]:
    return {
        "groups": [
            {
                "name": GROUP,
                "interval": interval,
                "rules": [{"record": record, "expr": expr} for record, expr in RECORDING_RULES.items()],
            }
        ]
    }


def rules_yaml(interval: str = INTERVAL) -> str:
    header = "# Recording rules of Harbor Console's fleet overview (manage.py monitoring_rules).\n"
    return header + yaml.safe_dump(rules_document(interval), sort_keys=False, width=200)
