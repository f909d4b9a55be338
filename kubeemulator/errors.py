"""Errors raised inside the emulator and their wire form, a ``v1 Status`` object as the apiserver sends."""

from __future__ import annotations

from typing import Any

from .kinds import Kind

REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    """An apiserver failure: HTTP code, CamelCase reason and a sentence for people."""

    def __init__(
        self, code: int, message: str, reason: str | None = None, details: dict[str, Any] | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
        self.details = details
        self.retry_after: int | None = None
        """Seconds for a ``Retry-After`` header, when the answer should carry one."""

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def not_found(cls, kind: Kind, name: str) -> ApiError:
        return cls(404, f'{kind.qualified_plural} "{name}" not found', details=_details(kind, name))

    @classmethod
    def already_exists(cls, kind: Kind, name: str) -> ApiError:
        return cls(
            409, f'{kind.qualified_plural} "{name}" already exists', "AlreadyExists", _details(kind, name)
        )

    @classmethod
    def conflict(cls, kind: Kind, name: str, why: str) -> ApiError:
        message = f'Operation cannot be fulfilled on {kind.qualified_plural} "{name}": {why}'
        return cls(409, message, "Conflict", _details(kind, name))

    @classmethod
    def stale(cls, kind: Kind, name: str) -> ApiError:
        why = "the object has been modified; please apply your changes to the latest version and try again"
        return cls.conflict(kind, name, why)

    @classmethod
    def invalid(cls, kind: Kind, name: str, why: str) -> ApiError:
        qualified = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
        message = f'{qualified} "{name}" is invalid: {why}'
        return cls(422, message, "Invalid", _details(kind, name))


def _details(kind: Kind, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind.plural}
    if kind.group:
        details["group"] = kind.group
    return details


def success_status(kind: Kind, name: str, uid: str) -> dict[str, Any]:
    """What the apiserver answers to a delete that removed the object at once."""
    details = _details(kind, name)
    details["uid"] = uid
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}
