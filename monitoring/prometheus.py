"""Reading Prometheus: one source per configured server, with a deadline, a short shared cache and plain results.

Every call answers; nothing raises to a page. A batch of queries runs in parallel under one deadline
(``PROMETHEUS_TIMEOUT_SECONDS``), so a page that needs eight figures waits at most that long even when Prometheus
hangs. Results are cached in the Django cache for ``PROMETHEUS_CACHE_SECONDS``: instant queries are evaluated at a
time aligned to that period, so every column of a page, and every web replica, reads the same instant. After a
connection-level failure the source says "unavailable" at once for the same period instead of waiting again.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, NamedTuple
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

MAX_PARALLEL = 12
"""Enough for every query of the fleet overview at once: Prometheus answers them in parallel."""
_CACHE_PREFIX = "monitoring:prom:v1:"


class Status(StrEnum):
    OK = "ok"
    UNCONFIGURED = "unconfigured"  # no PROMETHEUS_URL
    UNAVAILABLE = "unavailable"  # Prometheus cannot be reached, is too slow, or refuses us
    ERROR = "error"  # Prometheus answered, but refused this query


class Sample(NamedTuple):
    labels: dict[str, str]
    value: float | None  # None for NaN / ±Inf: "no figure"


class Series(NamedTuple):
    labels: dict[str, str]
    points: list[tuple[float, float | None]]


@dataclass(frozen=True)
class Result:
    """The answer to one query: samples (instant) or series (range), or why there is none.

    Holds Prometheus's own result list and reads it on demand: a fleet-wide answer has a row per tenant, and
    most pages only need :meth:`by`.
    """

    status: Status
    reason: str = ""
    kind: str = ""  # vector, scalar or matrix
    raw: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    @cached_property
    def samples(self) -> list[Sample]:
        if self.kind == "vector":
            return [Sample(dict(item["metric"]), _number(item["value"][1])) for item in self.raw]
        if self.kind == "scalar":
            return [Sample({}, _number(self.raw[1]))]
        return []

    @cached_property
    def series(self) -> list[Series]:
        if self.kind != "matrix":
            return []
        return [
            Series(dict(item["metric"]), [(float(t), _number(v)) for t, v in item["values"]])
            for item in self.raw
        ]

    def by(self, label: str = "namespace") -> dict[str, float | None]:
        """``{label value: sample value}`` of an instant result."""
        if self.kind == "vector":
            return {item["metric"].get(label, ""): _number(item["value"][1]) for item in self.raw}
        return {s.labels.get(label, ""): s.value for s in self.samples}


@dataclass(frozen=True)
class Batch:
    """Results of several queries asked together, with the one state a page shows for them."""

    results: dict[str, Result]
    evaluated_at: float
    status: Status
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status == Status.OK

    def __getitem__(self, name: str) -> Result:
        return self.results[name]

    @property
    def message(self) -> str:
        """What a page says about the metrics when something is wrong; empty when all is well."""
        if self.status == Status.OK:
            return ""
        if self.status == Status.UNCONFIGURED:
            return "Prometheus not configured: set PROMETHEUS_URL to show metrics."
        if self.status == Status.UNAVAILABLE:
            return f"Metrics unavailable: {self.reason}"
        return f"Some metrics are missing: {self.reason}"


@dataclass(frozen=True)
class RangeSpec:
    start: float
    end: float
    step: int


# --- counting queries (tests and the benchmark) ------------------------------------------------------------------

_captures: list[list[str]] = []
_captures_lock = threading.Lock()


@contextmanager
def capture_queries() -> Iterator[list[str]]:
    """Record the PromQL of every HTTP request sent to Prometheus inside the block (cache hits are not sent)."""
    log: list[str] = []
    with _captures_lock:
        _captures.append(log)
    try:
        yield log
    finally:
        with _captures_lock:
            _captures.remove(log)


def _note_query(query: str) -> None:
    if _captures:
        with _captures_lock:
            for log in _captures:
                log.append(query)


# --- the source ---------------------------------------------------------------------------------------------------

DOWN_MEMORY_SECONDS = 15
_down_lock = threading.Lock()
_down_until: dict[str, tuple[float, str]] = {}


def forget_failures() -> None:
    """Forget this process's memory of Prometheus failures (the shared cache keeps its own, with a short TTL)."""
    with _down_lock:
        _down_until.clear()


_executor: ThreadPoolExecutor | None = None
_executor_pid = 0
_executor_lock = threading.Lock()
_local = threading.local()


def _pool() -> ThreadPoolExecutor:
    """One small pool per process (re-created after a fork), whose threads keep HTTP connections alive."""
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=MAX_PARALLEL, thread_name_prefix="prometheus")
            _executor_pid = os.getpid()
        return _executor


def _session() -> requests.Session:
    session: requests.Session | None = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        _local.session = session
    return session


def display_url(url: str) -> str:
    """The URL without any user:password part, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class _Unavailable(Exception):
    """Prometheus could not be asked at all: every query of the batch shares this fate."""


class PrometheusSource:
    """Queries one Prometheus server over its HTTP API (``/api/v1/query`` and ``/api/v1/query_range``)."""

    def __init__(
        self,
        url: str,
        *,
        token: str = "",
        timeout: float = 3.0,
        cache_seconds: int = 30,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        key = hashlib.sha256(f"{self.url}|{token}".encode()).hexdigest()[:16]
        self._cache_key = f"{_CACHE_PREFIX}{key}:"

    @classmethod
    def from_settings(cls) -> PrometheusSource:
        return cls(
            settings.PROMETHEUS_URL,
            token=settings.PROMETHEUS_TOKEN,
            timeout=settings.PROMETHEUS_TIMEOUT_SECONDS,
            cache_seconds=settings.PROMETHEUS_CACHE_SECONDS,
        )

    @property
    def configured(self) -> bool:
        return bool(self.url)

    # -- public API

    def evaluation_time(self, now: float | None = None) -> float:
        """The instant queries are evaluated at: now, aligned down to the cache period."""
        now = time.time() if now is None else now
        if self.cache_seconds > 0:
            return float(math.floor(now / self.cache_seconds) * self.cache_seconds)
        return round(now, 3)

    def instant(self, queries: Mapping[str, str], at: float | None = None) -> Batch:
        """Evaluate every query at one instant (default :meth:`evaluation_time`)."""
        return self.start_instant(queries, at)()

    def start_instant(self, queries: Mapping[str, str], at: float | None = None) -> Callable[[], Batch]:
        """Send the queries of :meth:`instant` now and return what waits for their answers: the caller reads
        its database meanwhile (a page's SQL and Prometheus's work overlap instead of adding up)."""
        when = self.evaluation_time() if at is None else at
        params = {name: {"query": q, "time": _fmt(when)} for name, q in queries.items()}
        return self._start("query", params, when)

    def range(self, queries: Mapping[str, str], spec: RangeSpec) -> Batch:
        """Evaluate every query over ``spec`` (start and end should be multiples of the step)."""
        params = {
            name: {"query": q, "start": _fmt(spec.start), "end": _fmt(spec.end), "step": str(spec.step)}
            for name, q in queries.items()
        }
        return self._start("query_range", params, spec.end)()

    # -- internals

    def _start(self, endpoint: str, params: dict[str, dict[str, str]], when: float) -> Callable[[], Batch]:
        """Answer what the cache holds, send the rest to Prometheus in parallel; the returned call waits for them
        (at most the timeout) and gives the batch."""
        if not self.configured:
            unconfigured = self._whole(params, when, Status.UNCONFIGURED, "PROMETHEUS_URL is not set.")
            return lambda: unconfigured
        down = self._known_down()
        if down:
            unavailable = self._whole(params, when, Status.UNAVAILABLE, down)
            return lambda: unavailable
        keys = {name: self._key(endpoint, p) for name, p in params.items()}
        cached: dict[str, Any] = (
            _cached(lambda: cache.get_many(list(keys.values()))) or {} if self.cache_seconds else {}
        )
        results: dict[str, Result] = {}
        missing = {}
        for name, key in keys.items():
            if key in cached:
                results[name] = _parse(endpoint, cached[key])
            else:
                missing[name] = params[name]
        pending = self._send_all(endpoint, missing) if missing else {}

        def finish() -> Batch:
            if pending:
                try:
                    fetched = self._collect(pending)
                except _Unavailable as exc:
                    reason = str(exc)
                    self._remember_down(reason)
                    return self._whole(params, when, Status.UNAVAILABLE, reason)
                to_cache = {}
                for name, payload in fetched.items():
                    if payload.get("status") == "success":
                        to_cache[keys[name]] = payload
                    results[name] = _parse(endpoint, payload)
                if to_cache and self.cache_seconds:
                    _cached(lambda: cache.set_many(to_cache, timeout=self.cache_seconds))
            ordered = {name: results[name] for name in params}
            errors = [f"{name}: {r.reason}" for name, r in ordered.items() if not r.ok]
            status = Status.ERROR if errors else Status.OK
            return Batch(results=ordered, evaluated_at=when, status=status, reason="; ".join(errors))

        return finish

    def _down_seconds(self) -> int:
        return min(self.cache_seconds, DOWN_MEMORY_SECONDS)

    def _remember_down(self, reason: str) -> None:
        """After a failure, answer "unavailable" at once for a while: in this process, and (through the shared
        cache) in every other web process, instead of each page waiting for the timeout again."""
        if not self.cache_seconds:
            return
        with _down_lock:
            _down_until[self._cache_key] = (time.monotonic() + self._down_seconds(), reason)
        _cached(lambda: cache.set(self._cache_key + "down", reason, timeout=self._down_seconds()))

    def _known_down(self) -> str | None:
        if not self.cache_seconds:
            return None
        with _down_lock:
            until, reason = _down_until.get(self._cache_key, (0.0, ""))
        if until > time.monotonic():
            return reason
        shared: str | None = _cached(lambda: cache.get(self._cache_key + "down"))
        return shared or None

    def _whole(self, params: Mapping[str, Any], when: float, status: Status, reason: str) -> Batch:
        return Batch(
            results={name: Result(status, reason) for name in params},
            evaluated_at=when,
            status=status,
            reason=reason,
        )

    def _key(self, endpoint: str, params: dict[str, str]) -> str:
        text = endpoint + "|" + "|".join(f"{k}={params[k]}" for k in sorted(params))
        return self._cache_key + hashlib.sha256(text.encode()).hexdigest()

    def _send_all(
        self, endpoint: str, params: dict[str, dict[str, str]]
    ) -> dict[str, Future[dict[str, Any]]]:
        deadline = time.monotonic() + self.timeout
        return {name: _pool().submit(self._fetch, endpoint, p, deadline) for name, p in params.items()}

    def _collect(self, futures: dict[str, Future[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
        done, pending = wait(futures.values(), timeout=self.timeout + 0.1, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in done:
            exc = future.exception()
            if isinstance(exc, _Unavailable):
                raise exc
            if exc is not None:
                raise _Unavailable(
                    f"unexpected error talking to Prometheus ({exc.__class__.__name__}: {exc})."
                )
        if pending:
            raise _Unavailable(f"Prometheus did not answer within {self.timeout:g} s.")
        return {name: future.result() for name, future in futures.items()}

    def _fetch(self, endpoint: str, params: dict[str, str], deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Unavailable(f"Prometheus did not answer within {self.timeout:g} s.")
        _note_query(params["query"])
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        where = display_url(self.url)
        try:
            response = _session().get(
                f"{self.url}/api/v1/{endpoint}",
                params={**params, "timeout": f"{max(int(remaining * 1000), 100)}ms"},
                headers=headers,
                timeout=(min(remaining, 2.0), remaining),
            )
        except requests.Timeout:
            raise _Unavailable(f"Prometheus at {where} did not answer within {self.timeout:g} s.") from None
        except requests.ConnectionError as exc:
            raise _Unavailable(f"cannot connect to Prometheus at {where} ({_root_cause(exc)}).") from None
        except requests.RequestException as exc:
            raise _Unavailable(
                f"request to Prometheus at {where} failed ({exc.__class__.__name__})."
            ) from None
        if response.status_code in (401, 403):
            raise _Unavailable(
                f"Prometheus at {where} refused the credentials (HTTP {response.status_code}): "
                "check PROMETHEUS_TOKEN."
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "status" not in payload:
            raise _Unavailable(
                f"Prometheus at {where} answered HTTP {response.status_code} without its JSON API: "
                "check PROMETHEUS_URL."
            )
        if payload["status"] != "success" and response.status_code >= 500 and response.status_code != 503:
            raise _Unavailable(f"Prometheus at {where} failed (HTTP {response.status_code}).")
        if response.status_code == 503 and payload.get("errorType") not in ("timeout", "execution"):
            raise _Unavailable(f"Prometheus at {where} is not ready (HTTP 503).")
        return payload


def _cached(operation: Callable[[], Any]) -> Any:
    """A cache operation that cannot break a page: with the cache away, monitoring asks Prometheus every time."""
    try:
        return operation()
    except Exception as exc:  # noqa: BLE001 - whatever the cache backend raises
        log.warning("monitoring cache unavailable: %s: %s", exc.__class__.__name__, exc)
        return None


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None or exc.__context__ is not None:
        nxt = exc.__cause__ or exc.__context__
        assert nxt is not None
        exc = nxt
    text = str(exc)
    for known in ("Connection refused", "Name or service not known", "No route to host", "timed out"):
        if known.lower() in text.lower():
            return known.lower()
    return exc.__class__.__name__


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def _number(text: Any) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _parse(endpoint: str, payload: dict[str, Any]) -> Result:
    if payload.get("status") != "success":
        kind = payload.get("errorType", "error")
        return Result(Status.ERROR, f"{kind}: {payload.get('error', 'no reason given')}")
    data = payload.get("data") or {}
    kind = data.get("resultType")
    if kind in ("vector", "scalar", "matrix"):
        return Result(Status.OK, kind=kind, raw=data.get("result") or [])
    return Result(Status.ERROR, f"unexpected result type {kind!r}")
