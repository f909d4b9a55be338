"""``manage.py render_manifests <id|tenant/name> [--helm-values]``: print a registry's stack, secrets redacted."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning.reconcile import InvalidSpec, export_helm_values, export_manifests_yaml

from ._registry_lookup import find_registry


class Command(BaseCommand):
    help = "Print the registry's rendered manifests as YAML (or Helm values); every secret value is redacted."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("registry", help="Registry id, or tenant/name.")
        parser.add_argument(
            "--helm-values", action="store_true", help="Values for goharbor/harbor-helm instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        registry = find_registry(options["registry"])
        try:
            text = export_helm_values(registry) if options["helm_values"] else export_manifests_yaml(registry)
        except InvalidSpec as error:
            raise CommandError(f"{registry} cannot be rendered yet: {error}") from None
        self.stdout.write(text, ending="" if text.endswith("\n") else "\n")
