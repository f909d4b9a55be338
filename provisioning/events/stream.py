"""The live event stream: a Redis stream capped at ``EVENT_STREAM_MAXLEN`` entries, read as server-sent events.

Each SSE message carries the Redis entry id as its ``id``, so a client that reconnects with ``Last-Event-ID``
gets every event after it that the stream still holds; when that id is older than the oldest entry kept, a
``gap`` message says that events were missed (re-read the registries through the API). Without Redis
(``REDIS_URL`` unset) there is no stream: appending does nothing and the endpoint answers 503.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis
from django.conf import settings

from provisioning.events.cloudevents import envelope
from provisioning.models import Event, installation_id

ID_PATTERN = re.compile(r"^\d{1,20}-\d{1,20}$")
_clients: dict[tuple[str, int], redis.Redis] = {}
_lock = threading.Lock()


def available() -> bool:
    return bool(settings.REDIS_URL)


def key() -> str:
    return f"harborconsole:events:{installation_id()}"


def client(read_timeout: int = 5) -> redis.Redis:
    url = str(settings.REDIS_URL)
    with _lock:
        found = _clients.get((url, read_timeout))
        if found is None:
            found = _clients[(url, read_timeout)] = redis.Redis.from_url(
                url, socket_timeout=read_timeout, socket_connect_timeout=5
            )
        return found


def append(events: list[Event]) -> None:
    if not available() or not events:
        return
    pipe = client().pipeline(transaction=False)
    for event in events:
        payload = json.dumps(envelope(event), sort_keys=True, separators=(",", ":"))
        pipe.xadd(key(), {"event": payload}, maxlen=settings.EVENT_STREAM_MAXLEN, approximate=True)
    pipe.execute()


def valid_id(value: str) -> bool:
    return bool(ID_PATTERN.match(value))


def _id_tuple(value: str) -> tuple[int, int]:
    ms, seq = value.split("-")
    return int(ms), int(seq)


def _sse(message_id: str, event: str, data: str) -> bytes:
    return f"id: {message_id}\nevent: {event}\ndata: {data}\n\n".encode()


def messages(
    last_id: str | None, *, heartbeat: float, lifetime: float, subjects: set[str] | None = None
) -> Iterator[bytes]:
    """SSE bytes: the events after ``last_id`` (or from now), a comment every ``heartbeat`` seconds without one,
    until ``lifetime`` seconds have passed (the client reconnects with Last-Event-ID)."""
    reader = client(read_timeout=int(heartbeat) + 10)
    stream = key()
    if last_id is None:
        newest = reader.xrevrange(stream, count=1)
        cursor = _decode(newest[0][0]) if newest else "0-0"
    else:
        cursor = last_id
        if _trimmed_after(reader, stream, last_id):
            data = {
                "message": "Events after this id were trimmed from the stream: read the registries again."
            }
            yield _sse(last_id, "gap", json.dumps(data))
    yield f"retry: {settings.EVENT_STREAM_RETRY_MS}\n\n".encode()  # sent once the cursor is set
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        block_ms = int(max(1.0, min(heartbeat, deadline - time.monotonic())) * 1000)
        answer: Any = reader.xread({stream: cursor}, count=100, block=block_ms)
        if not answer:
            yield b": heartbeat\n\n"
            continue
        for entry_id, fields in answer[0][1]:
            cursor = _decode(entry_id)
            payload = _decode(fields[b"event"])
            if subjects is None or json.loads(payload).get("subject") in subjects:
                yield _sse(cursor, "message", payload)


def _trimmed_after(reader: redis.Redis, stream: str, last_id: str) -> bool:
    """Were entries after ``last_id`` dropped by the cap? (Some were trimmed and the oldest kept is newer.)"""
    try:
        info: Any = reader.xinfo_stream(stream)
    except redis.ResponseError:  # no such stream yet
        return False
    first = info.get("first-entry")
    if not first or int(info.get("entries-added", 0)) <= int(info.get("length", 0)):
        return False
    ms, seq = _id_tuple(last_id)
    return _id_tuple(_decode(first[0])) > (ms, seq + 1)


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
