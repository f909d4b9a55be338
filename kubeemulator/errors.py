"""Errors raised inside the emulator and their wire form, a ``v1 Status`` object as the apiserver sends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kinds import Kind


@dataclass(frozen=True)
class Cause:
    """One reason of a refusal, as in ``Status.details.causes``: ``field`` is a path such as ``spec.selector``."""

    reason: str
    message: str
    field: str

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}

    def sentence(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


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
    def invalid(cls, kind: Kind, name: str, causes: list[Cause]) -> ApiError:
        """A 422 as kube-apiserver words it: ``Deployment.apps "core" is invalid: spec.selector: ...``."""
        qualified = f"{kind.kind}.{kind.group}" if kind.group else kind.kind
        sentences = [cause.sentence() for cause in causes]
        why = sentences[0] if len(sentences) == 1 else "[" + ", ".join(sentences) + "]"
        details = _details(kind, name)
        details["causes"] = [cause.to_dict() for cause in causes]
        return cls(422, f'{qualified} "{name}" is invalid: {why}', "Invalid", details)

    @classmethod
    def forbidden(cls, kind: Kind, name: str, why: str, causes: list[Cause] | None = None) -> ApiError:
        """A 403 from admission: ``pods "core-" is forbidden: exceeded quota: ...``."""
        details = _details(kind, name)
        if causes:
            details["causes"] = [cause.to_dict() for cause in causes]
        return cls(403, f'{kind.qualified_plural} "{name}" is forbidden: {why}', "Forbidden", details)


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
