"""Classifying what went wrong in a run: a stable error class, transient or permanent, and whose move it is."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from redis.exceptions import RedisError

from provisioning.choices import ErrorClass, WhoseMove
from provisioning.kube import KubeApiError, KubeConfigError, KubeUnreachable

_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_QUOTA_WORDS = ("exceeded quota", "forbidden: exceeded", "exceeds quota")


class InvalidSpec(Exception):
    """The registry's rows cannot be turned into a stack (a value rendering refuses)."""


class UnresolvedHost(InvalidSpec):
    """An external service's host name has no address and the cluster names no CIDR for it: the provider's move."""


class LockLost(Exception):
    """The run's lock lapsed while it worked (its heartbeat found it taken): it stops before writing more."""


class PrerequisiteMissing(Exception):
    """Something the stack needs is absent from the cluster (a CRD, the ClusterIssuer, an IngressClass, a
    StorageClass): the provider's move; retrying before it is installed changes nothing."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items
        names = ", ".join(f"{item['kind']} {item['name']}".strip() for item in items)
        reasons = " ".join(str(item.get("message") or "") for item in items)
        super().__init__(f"Missing on the cluster: {names}. {reasons}".strip())


class ImmutableFieldChange(Exception):
    """The desired object changes a field the API server refuses to change, and no safe way to carry it out
    exists (a selector): the provider's move; the object is left as it is."""

    def __init__(self, kind: str, namespace: str, name: str, paths: list[str]) -> None:
        self.paths = paths
        super().__init__(
            f"{kind} {namespace}/{name} would change {', '.join(paths)}, which the API server does not allow "
            "to change; the console left it as it is. Restore the previous setting, or delete the object by hand "
            "once its data is safe"
        )


class StillDeleting(Exception):
    """An object deleted to be re-created is not gone yet (its finalizers run): the run stops and is retried."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is being deleted to be re-created; it is applied again once it is gone")


class NamespaceTerminating(Exception):
    """The registry's namespace is still being deleted: nothing can be created in it until it is gone."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        super().__init__(
            f"Waiting for namespace {namespace} to finish terminating: the registry's objects are created once "
            "it is gone"
        )


class NamespaceTaken(Exception):
    """The registry's namespace exists but is not this installation's for this registry: it is never touched."""


class DependenciesNotReady(Exception):
    """A dependency (database, cache, object storage) is failing: the rollout is held."""

    def __init__(
        self, message: str, whose_move: str, error_class: str = ErrorClass.DEPENDENCY_UNREACHABLE
    ) -> None:
        super().__init__(message)
        self.message = message
        self.whose_move = whose_move
        self.error_class = error_class or ErrorClass.DEPENDENCY_UNREACHABLE


@dataclass(frozen=True)
class Failure:
    """A run's failure, as a person and the retry policy read it."""

    error_class: str
    transient: bool
    whose_move: str
    reason: str
    message: str
    retry_after: float | None = None


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _camel(error_class: str) -> str:
    return "".join(part.capitalize() for part in error_class.split("_"))


def _failure(
    error_class: str, transient: bool, whose_move: str, message: str, **extra: float | None
) -> Failure:
    return Failure(error_class, transient, whose_move, _camel(error_class), _sentence(message), **extra)


def _api_failure(error: KubeApiError) -> Failure:
    said = f"The Kubernetes API answered {error.status} {error.reason} to {error.verb} {error.what}: {error.message}"
    if error.status == 409:
        return _failure(ErrorClass.API_CONFLICT, True, WhoseMove.TRANSIENT, said)
    if error.status == 404:
        return _failure(ErrorClass.API_CONFLICT, True, WhoseMove.TRANSIENT, f"{said} (removed meanwhile)")
    if error.status in _TRANSIENT_STATUS:
        return _failure(
            ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT, said, retry_after=error.retry_after
        )
    if error.status == 403 and any(word in error.message.lower() for word in _QUOTA_WORDS):
        return _failure(
            ErrorClass.QUOTA_EXCEEDED,
            False,
            WhoseMove.CUSTOMER,
            f"{said}. Lower the registry's settings or move it to a larger plan",
        )
    if error.status in (401, 403):
        return _failure(
            ErrorClass.API_FORBIDDEN,
            False,
            WhoseMove.PROVIDER,
            f"{said}. Check the cluster's credentials and the console's RBAC",
        )
    if error.status in (400, 415, 422):
        return _failure(ErrorClass.API_INVALID, False, WhoseMove.PROVIDER, said)
    return _failure(ErrorClass.API_UNAVAILABLE, error.status >= 500, WhoseMove.PROVIDER, said)


def classify(error: BaseException) -> Failure:
    """The failure ``error`` stands for; anything unforeseen is a permanent ``INTERNAL`` error."""
    if isinstance(error, DependenciesNotReady):
        return _failure(error.error_class, True, error.whose_move or WhoseMove.PROVIDER, error.message)
    if isinstance(error, LockLost):
        return _failure(
            ErrorClass.INTERNAL,
            True,
            WhoseMove.TRANSIENT,
            "This run lost its registry's lock (it could not renew it in time) and stopped before writing more; "
            "it is retried",
        )
    if isinstance(error, PrerequisiteMissing):
        return _failure(ErrorClass.PREREQUISITE_MISSING, False, WhoseMove.PROVIDER, str(error))
    if isinstance(error, ImmutableFieldChange):
        return _failure(ErrorClass.IMMUTABLE_FIELD, False, WhoseMove.PROVIDER, str(error))
    if isinstance(error, StillDeleting):
        return _failure(ErrorClass.API_CONFLICT, True, WhoseMove.TRANSIENT, str(error))
    if isinstance(error, NamespaceTerminating):
        return _failure(ErrorClass.NAMESPACE_TERMINATING, True, WhoseMove.TRANSIENT, str(error))
    if isinstance(error, NamespaceTaken):
        return _failure(ErrorClass.NAMESPACE_TAKEN, False, WhoseMove.PROVIDER, str(error))
    if isinstance(error, InvalidSpec):
        return _failure(
            ErrorClass.INVALID_SPEC, False, WhoseMove.PROVIDER, f"The stack cannot be rendered: {error}"
        )
    if isinstance(error, KubeApiError):
        return _api_failure(error)
    if isinstance(error, KubeUnreachable):
        return _failure(ErrorClass.CLUSTER_UNREACHABLE, True, WhoseMove.TRANSIENT, str(error))
    if isinstance(error, KubeConfigError):
        return _failure(ErrorClass.CLUSTER_UNREACHABLE, False, WhoseMove.PROVIDER, str(error))
    if isinstance(error, RedisError):
        return _failure(
            ErrorClass.INTERNAL, True, WhoseMove.TRANSIENT, f"The console's Redis failed: {error}"
        )
    if isinstance(error, DatabaseError):
        return _failure(
            ErrorClass.INTERNAL, True, WhoseMove.TRANSIENT, f"The console's database failed: {error}"
        )
    return _failure(
        ErrorClass.INTERNAL,
        False,
        WhoseMove.PROVIDER,
        f"The reconciler failed unexpectedly ({type(error).__name__}: {error}); the console's logs have the trace",
    )
