"""``manage.py monitoring_rules``: print (or ``--write``) the Prometheus recording rules of the fleet overview."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from monitoring.rules import INTERVAL, rules_yaml


class Command(BaseCommand):
    help = (
        "Print the recording rules to load into Prometheus (or write them to a rules file Prometheus reads); with "
        "PROMETHEUS_RECORDING_RULES=auto (the default) the console reads them once Prometheus holds the series of "
        "every rule (after an upgrade, write the file again and reload Prometheus)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", default=INTERVAL, help="Evaluation interval of the rule group.")
        parser.add_argument(
            "--write",
            metavar="PATH",
            help="Write the rules to PATH (replaced atomically) instead of printing them; reload Prometheus after.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = rules_yaml(options["interval"])
        if not options["write"]:
            self.stdout.write(text, ending="")
            return
        path = Path(options["write"])
        if not path.parent.is_dir():
            raise CommandError(
                f"{path.parent} is not a directory: create it, or give another path to --write."
            )
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        self.stdout.write(f"Wrote the recording rules to {path}: reload Prometheus to load them.")
