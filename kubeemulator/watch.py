"""Watches: the store's history of changes and the streams that follow it, as kube-apiserver's watch cache does.

Every change the store commits is an ``Change`` (ADDED, MODIFIED or DELETED, with the object after and before, and
its ``resourceVersion``). The last ``capacity`` changes are kept: a watch from a resourceVersion inside that window
replays what followed it; an older one gets an ``ERROR`` event carrying ``410 Gone`` / ``Expired`` ("too old resource
version"), after which a client lists again and watches from the list's resourceVersion. A watch without a
resourceVersion (or ``0``) starts with an ``ADDED`` event per existing object.

A ``Watcher`` filters changes by namespace, label and field selector (an object that stops matching is sent as
``DELETED``, one that starts matching as ``ADDED``), queues them, and is read by the HTTP handler thread serving its
stream; stores dispatch under their lock, so a watcher never misses or reorders a change.
"""

from __future__ import annotations

import bisect
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError
from .kinds import Kind

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"


@dataclass
class Change:
    """One committed change of one object (objects are never mutated once stored, so they are shared here)."""

    revision: int
    kind: Kind
    type: str
    obj: dict[str, Any]
    previous: dict[str, Any] | None = None
    _wire: bytes | None = field(default=None, repr=False)

    def wire(self, render: Callable[[Kind, dict[str, Any]], dict[str, Any]]) -> bytes:
        """The event line as sent on every stream that receives it unchanged (encoded once)."""
        if self._wire is None:
            self._wire = encode(self.type, render(self.kind, self.obj))
        return self._wire


def encode(event_type: str, obj: Mapping[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


class History:
    """The last ``capacity`` changes, in revision order."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the watch history must hold at least one change")
        self.capacity = capacity
        self._changes: list[Change] = []
        self._start = 0
        self.compacted = 0
        """The revision of the newest change that was dropped: a watch must start at or after it."""

    def append(self, change: Change) -> None:
        self._changes.append(change)
        if len(self._changes) - self._start > self.capacity:
            self.compacted = self._changes[self._start].revision
            self._start += 1
            if self._start > self.capacity:
                del self._changes[: self._start]
                self._start = 0

    def since(self, revision: int) -> list[Change]:
        """Changes after ``revision``; ``None`` is never returned: callers check ``compacted`` first."""
        revisions = [c.revision for c in self._changes]
        index = bisect.bisect_right(revisions, revision, lo=self._start)
        return self._changes[index:]

    def clear(self, revision: int) -> None:
        self._changes, self._start, self.compacted = [], 0, revision


Matcher = Callable[[dict[str, Any]], bool]


class Watcher:
    """One watch stream's filter and queue of encoded event lines."""

    def __init__(
        self,
        kind: Kind,
        namespace: str | None,
        matches: Matcher,
        render: Callable[[Kind, dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.kind = kind
        self.namespace = namespace
        self._matches = matches
        self._render = render
        self._queue: deque[bytes] = deque()
        self._ready = threading.Condition()
        self.closed = False
        self.sent_revision = 0

    def _passes(self, obj: dict[str, Any] | None) -> bool:
        if obj is None:
            return False
        if self.namespace is not None and obj["metadata"].get("namespace", "") != self.namespace:
            return False
        return self._matches(obj)

    def offer(self, change: Change) -> None:
        """Queue ``change`` as this watcher sees it (or not at all). Called under the store's lock."""
        now = change.type != DELETED and self._passes(change.obj)
        before = self._passes(change.previous) if change.type != ADDED else False
        if change.type == DELETED:
            before = self._passes(change.obj)
        if not now and not before:
            return
        if change.type == DELETED or (now and before) or (now and change.type == ADDED):
            line = change.wire(self._render)
        elif now:
            line = encode(ADDED, self._render(self.kind, change.obj))
        else:
            gone = self._render(self.kind, change.previous or change.obj)
            gone["metadata"] = {**gone["metadata"], "resourceVersion": str(change.revision)}
            line = encode(DELETED, gone)
        self.push(line)

    def push(self, line: bytes) -> None:
        with self._ready:
            self._queue.append(line)
            self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self.closed = True
            self._ready.notify()

    def take(self, timeout: float) -> list[bytes]:
        """Every queued line, waiting up to ``timeout`` seconds for one; empty when none came or when closed."""
        with self._ready:
            if not self._queue and not self.closed:
                self._ready.wait(timeout)
            lines = list(self._queue)
            self._queue.clear()
            return lines

    def idle(self) -> bool:
        with self._ready:
            return not self._queue


class Watches:
    """The registry of open watchers, by kind."""

    def __init__(self) -> None:
        self._by_kind: dict[Kind, set[Watcher]] = {}
        self._lock = threading.Lock()

    def add(self, watcher: Watcher) -> None:
        with self._lock:
            self._by_kind.setdefault(watcher.kind, set()).add(watcher)

    def remove(self, watcher: Watcher) -> None:
        with self._lock:
            self._by_kind.get(watcher.kind, set()).discard(watcher)

    def of(self, kind: Kind) -> Iterable[Watcher]:
        with self._lock:
            return list(self._by_kind.get(kind, ()))

    def count(self) -> int:
        with self._lock:
            return sum(len(watchers) for watchers in self._by_kind.values())

    def close_all(self) -> None:
        with self._lock:
            watchers = [w for group in self._by_kind.values() for w in group]
        for watcher in watchers:
            watcher.close()


def too_old(requested: int, oldest: int) -> ApiError:
    return ApiError(410, f"too old resource version: {requested} ({oldest})", "Expired")
