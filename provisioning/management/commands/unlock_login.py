"""``manage.py unlock_login [--account NAME] [--address IP] [--list]``: lift a login lockout before it expires.

Lockouts expire by themselves after ``LOGIN_LOCKOUT_SECONDS``; this lifts one at once (audited as done from the
command line) or lists the ones in force.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from provisioning.choices import Via
from provisioning.models import LoginThrottle
from provisioning.services.logins import unlock


class Command(BaseCommand):
    help = "Lift the login lockout of an account name and/or a client address, or list the lockouts in force."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", help="The account name that is locked out.")
        parser.add_argument("--address", help="The client address that is locked out.")
        parser.add_argument("--list", action="store_true", help="List the lockouts in force.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for row in LoginThrottle.objects.filter(locked_until__gt=timezone.now()).order_by("locked_until"):
                self.stdout.write(
                    f"{row.scope} {row.key} locked until {row.locked_until:%Y-%m-%d %H:%M:%S} UTC"
                )
            return
        if not (options["account"] or options["address"]):
            raise CommandError("Give --account NAME and/or --address IP (or --list).")
        lifted = unlock(
            actor="command line", via=Via.CLI, account=options["account"], address=options["address"]
        )
        self.stdout.write(f"Lifted {lifted} lockout{'s' if lifted != 1 else ''}.")
