"""Errors a service function raises when it refuses an action; the UI and the API turn them into messages."""

from __future__ import annotations


class ActionRefused(Exception):
    """The action cannot be taken now; ``message`` says why and what to do, ``code`` is stable for automation."""

    def __init__(
        self, message: str, code: str = "refused", field: str | None = None, status: int = 409
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.status = status
