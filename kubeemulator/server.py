"""The HTTP face of the emulator: routing, body decoding, authentication, faults, accounting, logging, and the
chunked streams of watches (``?watch=1``), which end cleanly at their ``timeoutSeconds`` or when the emulator stops."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import select
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

from . import admin, discovery
from .errors import ApiError
from .kinds import Kind, find_by_plural
from .store import APPLY_PATCH, JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from .watch import Watcher

if TYPE_CHECKING:
    from .emulator import KubeEmulator

logger = logging.getLogger("kubeemulator")

_JSON_TYPES = frozenset({"application/json", MERGE_PATCH, JSON_PATCH, STRATEGIC_MERGE_PATCH})
_PATCH_TYPES = frozenset({MERGE_PATCH, JSON_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH})
_HEALTH = frozenset({"healthz", "livez", "readyz"})


@dataclass(frozen=True)
class Route:
    """A resource URL: kind, namespace (``None``: cluster scope or all namespaces), name, subresource."""

    kind: Kind
    namespace: str | None
    name: str | None
    subresource: str


def _not_found() -> ApiError:
    return ApiError(404, "the server could not find the requested resource")


def resolve(segments: list[str]) -> Route:
    """Map ``/api/v1/...`` or ``/apis/{group}/{version}/...`` segments to a route, or raise a 404."""
    if segments[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", segments[2:]
    elif segments[:1] == ["apis"] and len(segments) >= 3:
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        raise _not_found()
    if len(rest) >= 3 and rest[0] == "namespaces":
        kind = find_by_plural(group, version, rest[2])
        if kind is not None and kind.namespaced:
            if len(rest) > 5:
                raise _not_found()
            return _route(kind, rest[1], rest[3:])
    if not rest or len(rest) > 3:
        raise _not_found()
    kind = find_by_plural(group, version, rest[0])
    if kind is None or (kind.namespaced and len(rest) > 1):
        raise _not_found()
    return _route(kind, None, rest[1:])


def _route(kind: Kind, namespace: str | None, rest: list[str]) -> Route:
    name = rest[0] if rest else None
    subresource = rest[1] if len(rest) > 1 else ""
    if subresource and not (subresource == "status" and kind.status):
        raise _not_found()
    return Route(kind, namespace, name, subresource)


def _verb(method: str, route: Route, content_type: str) -> str:
    named = route.name is not None
    scoped = route.namespace is not None or not route.kind.namespaced
    if method == "GET":
        return "get" if named else "list"
    if method == "POST" and not named and scoped:
        return "create"
    if method == "PUT" and named:
        return "update"
    if method == "PATCH" and named:
        return "apply" if content_type == APPLY_PATCH else "patch"
    if method == "DELETE" and not route.subresource and (named or scoped):
        return "delete"
    raise ApiError(405, f"the server does not allow this method on the requested resource ({method})")


def _decode_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type in _JSON_TYPES or content_type == APPLY_PATCH or content_type.endswith("yaml"):
        try:
            return json.loads(raw)
        except ValueError:
            if content_type in _JSON_TYPES:
                raise ApiError(400, "the request body is not valid JSON") from None
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise ApiError(400, f"the request body is not valid YAML: {error}") from None
    raise ApiError(415, f"the content type {content_type!r} is not supported by the emulator")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("true", "1", "yes")


DEFAULT_WATCH_SECONDS = 1800
"""How long a watch lasts when the client gives no ``timeoutSeconds`` (kube-apiserver: 30 to 60 minutes)."""


@dataclass
class WatchStream:
    """A watch to serve as a chunked stream instead of a JSON answer."""

    watcher: Watcher
    seconds: float
    bookmarks: bool


class EmulatorHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that can drop its open keep-alive connections when it stops."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: KubeEmulator):
        super().__init__(address, RequestHandler)
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Disconnect every client, as a stopped apiserver would (pooled connections must not keep working)."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class RequestHandler(BaseHTTPRequestHandler):
    """One connection; every request is answered with JSON (or ``ok`` for health checks)."""

    protocol_version = "HTTP/1.1"
    server_version = "kubeemulator"
    disable_nagle_algorithm = True

    @property
    def emulator(self) -> KubeEmulator:
        return cast(EmulatorHTTPServer, self.server).emulator

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug(format, *args)

    def _handle(self) -> None:
        started = time.perf_counter()
        split = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(split.query, keep_blank_values=True).items()}
        content_type = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip().lower()
        self._counted, self._injected = False, False
        headers: dict[str, str] = {}
        payload: Any
        stream: WatchStream | None = None
        try:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            segments = [unquote(part) for part in split.path.split("/") if part]
            if segments[:1] == ["_emulator"]:
                self._authorize()
                code, payload = admin.handle(
                    self.emulator, self.command, segments[1:], query, _decode_body(raw, "application/json")
                )
            elif len(segments) == 1 and segments[0] in _HEALTH:
                code, payload = 200, "ok"
            else:
                self._authorize()
                code, payload = self._api(segments, query, raw, content_type)
                if isinstance(payload, WatchStream):
                    stream, payload = payload, None
        except ApiError as error:
            code, payload = error.code, error.status()
            if error.retry_after is not None:
                headers["Retry-After"] = str(error.retry_after)
        except Exception:
            logger.exception("emulator failure on %s %s", self.command, self.path)
            code, payload = 500, ApiError(500, "Internal error occurred: the emulator failed").status()
        if self._counted:
            self.emulator.request_stats.answered(code, injected=self._injected)
        if stream is not None:
            self._stream(stream)
            return
        self._send(code, payload, headers)
        elapsed = (time.perf_counter() - started) * 1000
        logger.info("%s %s %d %.1fms", self.command, self.path, code, elapsed)

    def _authorize(self) -> None:
        token = self.emulator.token
        if token is None:
            return
        given = self.headers.get("Authorization") or ""
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise ApiError(401, "Unauthorized")

    def _discovery(self, segments: list[str]) -> dict[str, Any] | None:
        served = self.emulator.store.served_kinds()
        if segments == ["version"]:
            return discovery.version_info(self.emulator.kubernetes_version)
        if segments == ["api"]:
            return discovery.api_versions(f"{self.emulator.host}:{self.emulator.port}", served)
        if segments == ["apis"]:
            return discovery.api_group_list(served)
        if segments == ["api", "v1"]:
            return discovery.resource_list("", "v1", served)
        if not (segments[:1] == ["apis"] and len(segments) in (2, 3)):
            return None
        if len(segments) == 2:
            document = discovery.api_group(segments[1], served)
        else:
            document = discovery.resource_list(segments[1], segments[2], served)
        if document is None:
            raise _not_found()
        return document

    def _api(
        self, segments: list[str], query: dict[str, str], raw: bytes, content_type: str
    ) -> tuple[int, Any]:
        document = self._discovery(segments)
        if document is not None:
            self.emulator.request_stats.discovery()
            if self.command != "GET":
                raise ApiError(
                    405, f"the server does not allow this method on the requested resource ({self.command})"
                )
            return 200, document
        route = resolve(segments)
        if not self.emulator.store.served(route.kind):
            raise _not_found()
        kind, namespace, name = route.kind, route.namespace or "", route.name or ""
        verb = _verb(self.command, route, content_type)
        if verb == "list" and _flag(query.get("watch")):
            verb = "watch"
        if verb in ("patch", "apply") and content_type not in _PATCH_TYPES:
            raise ApiError(415, f"the content type {content_type!r} is not a patch type")
        self.emulator.request_stats.request(verb, kind.kind)
        self._counted = True
        delay, fault = self.emulator.faults.decide(verb, kind.kind)
        if delay:
            time.sleep(delay)
        if fault is not None:
            self._injected = True
            raise fault
        body = _decode_body(raw, content_type)
        store = self.emulator.store
        dry_run = query.get("dryRun") == "All"
        manager = (
            query.get("fieldManager") or (self.headers.get("User-Agent") or "unknown").split("/")[0][:128]
        )
        if verb == "get":
            return 200, store.get(kind, namespace, name)
        if verb == "watch":
            watcher = store.watch(
                kind,
                route.namespace,
                query.get("labelSelector"),
                query.get("fieldSelector"),
                query.get("resourceVersion"),
            )
            seconds = float(query["timeoutSeconds"]) if query.get("timeoutSeconds", "").isdigit() else None
            return 200, WatchStream(
                watcher, seconds or DEFAULT_WATCH_SECONDS, _flag(query.get("allowWatchBookmarks"))
            )
        if verb == "list":
            limit = int(query["limit"]) if query.get("limit", "").isdigit() else None
            return 200, store.list_objects(
                kind,
                route.namespace,
                query.get("labelSelector"),
                query.get("fieldSelector"),
                limit,
                query.get("continue"),
            )
        if verb == "create":
            return 201, store.create(kind, namespace, body, manager, dry_run)
        if verb == "update":
            return 200, store.update(kind, namespace, name, body, manager, route.subresource, dry_run)
        if verb == "patch":
            return 200, store.patch(
                kind, namespace, name, content_type, body, manager, route.subresource, dry_run
            )
        if verb == "apply":
            obj, created = store.apply(
                kind,
                namespace,
                name,
                body,
                query.get("fieldManager"),
                force=_flag(query.get("force")),
                subresource=route.subresource,
                dry_run=dry_run,
            )
            return (201 if created else 200), obj
        options = body if isinstance(body, dict) else {}
        if route.name is not None:
            return 200, store.delete(kind, namespace, name, options, query.get("propagationPolicy"), dry_run)
        return 200, store.delete_collection(
            kind, route.namespace, query.get("labelSelector"), query.get("fieldSelector"), options, dry_run
        )

    def _stream(self, stream: WatchStream) -> None:
        """Serve a watch: event lines as chunks until its time is up, the client leaves or the emulator stops."""
        emulator = self.emulator
        watcher = stream.watcher
        emulator.request_stats.watch_opened()
        deadline = time.monotonic() + stream.seconds
        next_bookmark = time.monotonic() + emulator.bookmark_interval
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            while True:
                now = time.monotonic()
                if now >= deadline or not emulator.running:
                    break
                wait = min(deadline, next_bookmark if stream.bookmarks else deadline, now + 1.0) - now
                lines = watcher.take(max(wait, 0.0))
                if not lines and self._client_left():
                    break
                if not lines and stream.bookmarks and time.monotonic() >= next_bookmark:
                    bookmark = emulator.store.bookmark(watcher)
                    lines = [bookmark] if bookmark is not None else []
                    next_bookmark = time.monotonic() + emulator.bookmark_interval
                for line in lines:
                    self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                if lines:
                    self.wfile.flush()
                if watcher.closed and watcher.idle():
                    break
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
        finally:
            emulator.store.watches.remove(watcher)
            emulator.request_stats.watch_closed()

    def _client_left(self) -> bool:
        """Has the client closed its end (a watch would otherwise notice only at its next write)?"""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _send(self, code: int, payload: Any, headers: dict[str, str]) -> None:
        if isinstance(payload, str):
            data, content_type = payload.encode(), "text/plain; charset=utf-8"
        else:
            data, content_type = json.dumps(payload, separators=(",", ":")).encode(), "application/json"
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
