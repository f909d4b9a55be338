"""Signing deliveries: ``X-HarborConsole-Signature: sha256=<hex>`` over ``<timestamp>.<body>``.

The timestamp (Unix seconds, ``X-HarborConsole-Timestamp``) is part of what is signed, so a receiver that refuses
timestamps older than a few minutes cannot be fed a replayed delivery. :func:`verify` is what a receiver does.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-HarborConsole-Signature"
TIMESTAMP_HEADER = "X-HarborConsole-Timestamp"
EVENT_ID_HEADER = "X-HarborConsole-Event-Id"
"""The event's id again, so a receiver can drop a duplicate before parsing the body."""
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {SIGNATURE_HEADER: signature(secret, timestamp, body), TIMESTAMP_HEADER: str(timestamp)}


def verify(secret: str, timestamp: str, body: bytes, given: str, now: float) -> bool:
    """A receiver's check: the signature matches and the timestamp is recent."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > TOLERANCE_SECONDS:
        return False
    return hmac.compare_digest(signature(secret, sent, body), given)
