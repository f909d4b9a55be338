"""``manage.py monitoring_rules``: print the Prometheus recording rules of the fleet overview (YAML)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from monitoring.rules import INTERVAL, rules_yaml


class Command(BaseCommand):
    help = "Print the recording rules to load into Prometheus before setting PROMETHEUS_RECORDING_RULES=true."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", default=INTERVAL, help="Evaluation interval of the rule group.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(rules_yaml(options["interval"]), ending="")
