"""Fault injection: failed requests and added latency, for reliability tests.

A rule matches requests by verb (``read`` — get, list and watch —, ``write`` or an exact verb such as ``apply``)
and by kind, then
fails a matching request with probability ``error_rate`` (drawn from a seeded generator, so a run is
repeatable) with one of ``codes``; ``count`` limits a rule to its next N failures ("fail the next 3
writes"), after which it is dropped. Counted rules are consulted first. ``latency_ms`` delays every matching
request, failing or not. Discovery and ``/_emulator`` requests are never faulted. ``retry_after`` adds a
``Retry-After`` header (as the apiserver sends with its 429s): beware that urllib3, under the official
client, then silently retries reads (GET) on 413, 429 and 503 after sleeping that long, so the caller never
sees those failures.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import REASONS, ApiError

READ_VERBS = frozenset({"get", "list"})
WRITE_VERBS = frozenset({"create", "update", "patch", "apply", "delete"})
VERBS = READ_VERBS | WRITE_VERBS | {"watch"}

_MESSAGES = {
    409: "the object has been modified; please apply your changes to the latest version and try again",
    429: "too many requests, please try again later",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted",
}


@dataclass
class FaultRule:
    """Which requests to disturb, and how."""

    error_rate: float = 1.0
    codes: tuple[int, ...] = (500,)
    latency_ms: int = 0
    verbs: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    count: int | None = None
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        if not self.codes or any(code < 400 or code > 599 for code in self.codes):
            raise ValueError("codes must be HTTP error codes (4xx or 5xx)")
        if self.verbs is not None:
            unknown = set(self.verbs) - VERBS - {"read", "write"}
            if unknown:
                raise ValueError(f"unknown verbs: {sorted(unknown)}")

    def matches(self, verb: str, kind: str) -> bool:
        if self.kinds is not None and kind.lower() not in {k.lower() for k in self.kinds}:
            return False
        if self.verbs is None:
            return True
        group = "write" if verb in WRITE_VERBS else "read"
        return verb in self.verbs or group in self.verbs

    def to_dict(self) -> dict[str, Any]:
        return {
            "error_rate": self.error_rate,
            "codes": list(self.codes),
            "latency_ms": self.latency_ms,
            "verbs": sorted(self.verbs) if self.verbs is not None else None,
            "kinds": sorted(self.kinds) if self.kinds is not None else None,
            "count": self.count,
            "retry_after": self.retry_after,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        unknown = set(data) - {"error_rate", "codes", "latency_ms", "verbs", "kinds", "count", "retry_after"}
        if unknown:
            raise ValueError(f"unknown fault rule fields: {sorted(unknown)}")
        return cls(
            error_rate=float(data.get("error_rate", 1.0)),
            codes=tuple(int(c) for c in data.get("codes", (500,))),
            latency_ms=int(data.get("latency_ms", 0)),
            verbs=_names(data.get("verbs")),
            kinds=_names(data.get("kinds")),
            count=None if data.get("count") is None else int(data["count"]),
            retry_after=None if data.get("retry_after") is None else int(data["retry_after"]),
        )


def _names(values: Iterable[str] | str | None) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    return frozenset(values)


class FaultInjector:
    """The active rules; ``decide`` is called once per API request, outside the store lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(0)
        self.seed = 0

    def set(self, rules: Iterable[FaultRule], seed: int | None = None) -> None:
        with self._lock:
            self._rules = list(rules)
            if seed is not None:
                self.seed = seed
            self._random = random.Random(self.seed)

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        self.set([])

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def decide(self, verb: str, kind: str) -> tuple[float, ApiError | None]:
        """Seconds to wait, and the error to answer with (if any)."""
        with self._lock:
            latency = 0.0
            error: ApiError | None = None
            for rule in sorted(self._rules, key=lambda r: r.count is None):
                if not rule.matches(verb, kind):
                    continue
                latency += rule.latency_ms / 1000
                if error is not None or rule.error_rate == 0:
                    continue
                if rule.error_rate >= 1.0 or self._random.random() < rule.error_rate:
                    code = rule.codes[0] if len(rule.codes) == 1 else self._random.choice(rule.codes)
                    error = ApiError(code, _MESSAGES.get(code, f"injected fault ({REASONS.get(code, code)})"))
                    error.retry_after = rule.retry_after
                    if rule.count is not None:
                        rule.count -= 1
                        if rule.count <= 0:
                            self._rules.remove(rule)
            return latency, error
