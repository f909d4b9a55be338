"""What the watcher learns of a cluster's API server, written onto its ``Cluster`` row (read by ``Cluster.health``).

A successful LIST sets ``last_list_at`` and the latency; events and bookmarks set ``last_watch_at``; a failure that
says the API server cannot be used (no answer, 5xx, 403: ``reconcile.contact.CLUSTER_ERRORS``) marks it
unreachable with the error, which makes its registries Unknown in the health verdict. Writes are throttled: a
change of state is written at once, the same state at most every ``REFRESH_SECONDS``.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import close_old_connections, connection
from django.utils import timezone

from provisioning.models import Cluster
from provisioning.reconcile.contact import CLUSTER_ERRORS
from provisioning.reconcile.errors import classify

logger = logging.getLogger("provisioning.watch")

REFRESH_SECONDS = 5.0


class ClusterContact:
    """One cluster's recorder, shared by its watch threads."""

    def __init__(self, cluster_id: int) -> None:
        self.cluster_id = cluster_id
        self._lock = threading.Lock()
        self._reachable: bool | None = None
        self._written: dict[str, float] = {}

    def _due(self, what: str, reachable: bool) -> bool:
        now = time.monotonic()
        with self._lock:
            changed = self._reachable is not reachable
            if not changed and now - self._written.get(what, 0.0) < REFRESH_SECONDS:
                return False
            self._reachable = reachable
            self._written[what] = now
            return True

    def _write(self, **values: object) -> None:
        try:
            close_old_connections()
            Cluster.objects.filter(pk=self.cluster_id).update(**values)
        except Exception:
            logger.exception("could not record the contact with cluster %s", self.cluster_id)
        finally:
            connection.close()  # written rarely, from a watch thread: no connection held per thread meanwhile

    def listed(self, latency_ms: float) -> None:
        if self._due("list", True):
            now = timezone.now()
            self._write(api_reachable=True, api_latency_ms=latency_ms, last_contact_at=now, last_list_at=now)

    def watched(self) -> None:
        if self._due("watch", True):
            now = timezone.now()
            self._write(api_reachable=True, last_contact_at=now, last_watch_at=now)

    def version(self, git_version: str) -> None:
        if git_version:
            self._write(api_version=git_version[:32])

    def failed(self, error: BaseException) -> bool:
        """Record ``error`` when it says the API server cannot be used; True when it does."""
        failure = classify(error)
        if failure.error_class not in CLUSTER_ERRORS:
            return False
        if self._due("error", False):
            self._write(api_reachable=False, last_error=failure.message[:2000], last_error_at=timezone.now())
        return True
