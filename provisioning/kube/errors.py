"""What can go wrong talking to a cluster, as exceptions the reconciler can classify."""

from __future__ import annotations

from typing import Any


class KubeError(Exception):
    """Base of every error the gateway raises."""


class KubeConfigError(KubeError):
    """The cluster's access settings cannot be used (an unreadable kubeconfig, no credentials...)."""


class KubeUnreachable(KubeError):
    """The API server could not be reached or did not answer in time."""

    def __init__(self, message: str, *, verb: str = "", what: str = "", tls: bool = False) -> None:
        super().__init__(message)
        self.verb = verb
        self.what = what
        self.tls = tls


class KubeApiError(KubeError):
    """The API server answered with an error ``Status``."""

    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        *,
        verb: str = "",
        what: str = "",
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{verb} {what}: {status} {reason}: {message}".strip())
        self.status = status
        self.reason = reason
        self.message = message
        self.verb = verb
        self.what = what
        self.details = details or {}
        self.retry_after = retry_after

    @property
    def not_found(self) -> bool:
        return self.status == 404

    @property
    def forbidden(self) -> bool:
        return self.status == 403


class KubeWatchExpired(KubeApiError):
    """410 Gone on a watch: the resourceVersion is older than the server keeps. List again, watch from the list's."""
