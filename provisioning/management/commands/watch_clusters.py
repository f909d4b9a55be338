"""``manage.py watch_clusters``: the watcher process (see ``provisioning.watch``). Runs until SIGTERM or Ctrl-C.

Run one per installation, beside the Celery workers: it fills the watch cache the reconcile runs read, asks for a
reconcile as soon as an owned object changes behind the console's back (or a component breaks or recovers), and
records each cluster's reachability, last list and last watch.
"""

from __future__ import annotations

import signal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from provisioning.watch.watcher import FleetWatcher


class Command(BaseCommand):
    help = "Watch every cluster's owned objects: feed the reconcile cache and queue reconciles on changes."

    def handle(self, *args: Any, **options: Any) -> None:
        watcher = FleetWatcher()
        signal.signal(signal.SIGTERM, lambda *_: watcher.stop())
        signal.signal(signal.SIGINT, lambda *_: watcher.stop())
        cache = "Redis" if settings.REDIS_URL else "none (no REDIS_URL: reconcile runs keep listing)"
        self.stdout.write(f"Watching every cluster; cache: {cache}. Stop with Ctrl-C.")
        watcher.run()
        self.stdout.write("Stopped.")
