"""``manage.py reconcile <id|tenant/name> | --all [--sync]``: reconcile registries from a shell.

Without ``--sync`` the runs are queued for the workers (as the console's "Reconcile now" does, audited as done
from the command line); with it they run here, one after the other, and their outcome is printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from provisioning.choices import RunTrigger, Via
from provisioning.models import ReconcileRun, Registry
from provisioning.reconcile import reconcile
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import reconcile_now
from provisioning.tasks import carry_out_requests

from ._registry_lookup import find_registry


class Command(BaseCommand):
    help = "Reconcile one registry (id or tenant/name) or every live one (--all), queued or here (--sync)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("registry", nargs="?", help="Registry id, or tenant/name.")
        parser.add_argument("--all", action="store_true", help="Every registry that still has a stack.")
        parser.add_argument("--sync", action="store_true", help="Run here and print the outcome.")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["registry"]) == bool(options["all"]):
            raise CommandError("Name one registry, or give --all.")
        registries = (
            list(Registry.objects.live().with_related().order_by("pk"))
            if options["all"]
            else [find_registry(options["registry"])]
        )
        failed = 0
        for registry in registries:
            failed += self._sync(registry) if options["sync"] else self._queue(registry)
        if failed:
            raise CommandError(f"{failed} of {len(registries)} registries did not reconcile.")

    def _queue(self, registry: Registry) -> int:
        try:
            run = reconcile_now(registry, actor=None, via=Via.CLI)
        except ActionRefused as refusal:
            self.stderr.write(f"{registry}: {refusal.message}")
            return 1
        self.stdout.write(f"{registry}: run {run.pk} queued on {registry.cluster.queue}.")
        return 0

    def _sync(self, registry: Registry) -> int:
        outcome = reconcile(registry.pk, trigger=RunTrigger.MANUAL)
        carry_out_requests(outcome)  # a request left while it ran (or, refused, its deferred check) goes out
        run = ReconcileRun.objects.filter(pk=outcome.run_id).first() if outcome.run_id else None
        counts = (
            f"{run.created} created, {run.updated} updated, {run.unchanged} unchanged, {run.deleted} deleted"
            if run
            else "no run"
        )
        line = f"{registry}: {outcome.status} in {run.duration_ms if run else 0} ms, phase {outcome.phase}; {counts}"
        if outcome.failure:
            line += (
                f"\n  {outcome.failure.error_class} ({outcome.failure.whose_move}): {outcome.failure.message}"
            )
        elif outcome.message:
            line += f"\n  {outcome.message}"
        self.stdout.write(line)
        return 1 if outcome.failure else 0
