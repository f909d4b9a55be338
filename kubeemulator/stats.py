"""Request accounting: what the clients asked for, and how many of their writes changed anything."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from .faults import READ_VERBS, WRITE_VERBS


class RequestStats:
    """Counters by verb, by kind and by answer code, with reads, writes and actual mutations apart.

    A write request that changed nothing (an idempotent apply, an update with the same content) counts as a
    write but not as a mutation. Watches count on their own (``watches``, and ``open_watches`` now), neither as
    reads nor as writes. What the simulated controllers write is ``controller_updates``. Discovery requests are
    counted on their own; ``/_emulator`` calls are not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open_watches = 0
        self._clear()

    def reset(self) -> None:
        with self._lock:
            self._clear()

    def _clear(self) -> None:
        self._verbs: Counter[str] = Counter()
        self._kinds: dict[str, Counter[str]] = {}
        self._codes: Counter[int] = Counter()
        self._mutations = 0
        self._mutations_by_kind: Counter[str] = Counter()
        self._discovery = 0
        self._faults = 0
        self._controller_updates = 0

    def request(self, verb: str, kind: str) -> None:
        with self._lock:
            self._verbs[verb] += 1
            self._kinds.setdefault(kind, Counter())[verb] += 1

    def answered(self, code: int, *, injected: bool = False) -> None:
        with self._lock:
            self._codes[code] += 1
            self._faults += injected

    def mutation(self, kind: str) -> None:
        with self._lock:
            self._mutations += 1
            self._mutations_by_kind[kind] += 1

    def discovery(self) -> None:
        with self._lock:
            self._discovery += 1

    def watch_opened(self) -> None:
        with self._lock:
            self._open_watches += 1

    def watch_closed(self) -> None:
        with self._lock:
            self._open_watches -= 1

    def controller_update(self) -> None:
        with self._lock:
            self._controller_updates += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            reads = sum(n for verb, n in self._verbs.items() if verb in READ_VERBS)
            writes = sum(n for verb, n in self._verbs.items() if verb in WRITE_VERBS)
            return {
                "total": sum(self._verbs.values()),
                "reads": reads,
                "writes": writes,
                "watches": self._verbs.get("watch", 0),
                "open_watches": self._open_watches,
                "mutations": self._mutations,
                "by_verb": dict(self._verbs),
                "by_kind": {kind: dict(verbs) for kind, verbs in self._kinds.items()},
                "mutations_by_kind": dict(self._mutations_by_kind),
                "responses_by_code": {str(code): n for code, n in sorted(self._codes.items())},
                "injected_faults": self._faults,
                "discovery": self._discovery,
                "controller_updates": self._controller_updates,
            }
