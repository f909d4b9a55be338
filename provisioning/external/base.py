"""What every external-service provider offers, and the shapes of its answers and failures.

A provider adapts one kind of shared service (PostgreSQL, Redis, object storage) for one binding row. It talks to
the service, never to Kubernetes, and it changes only the binding object it was given: the caller saves it.
It touches only what carries its registry's mark (:mod:`provisioning.external.ownership`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from provisioning.choices import BindingStatus, ErrorClass, WhoseMove
from provisioning.models import Binding

BindingT_contra = TypeVar("BindingT_contra", bound=Binding, contravariant=True)


@dataclass(frozen=True)
class CheckResult:
    """What one check of a dependency found; ``message`` is a sentence a support person can act on.

    ``repairable`` says the console itself can fix the problem (recreate a dropped role, reset a changed
    password) by provisioning again; the caller then provisions and checks once more.
    """

    status: str
    message: str
    whose_move: str = WhoseMove.NONE
    latency_ms: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    repairable: bool = False

    @property
    def ok(self) -> bool:
        return self.status == BindingStatus.OK


class DependencyError(Exception):
    """A dependency operation failed; the message says what is wrong and what to do."""

    status: str = BindingStatus.UNREACHABLE
    whose_move: str = WhoseMove.PROVIDER
    error_class: str = ErrorClass.DEPENDENCY_UNREACHABLE

    def __init__(self, message: str, *, whose_move: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if whose_move is not None:
            self.whose_move = whose_move

    def as_result(self, latency_ms: float | None = None) -> CheckResult:
        return CheckResult(self.status, self.message, self.whose_move, latency_ms)


class DependencyUnreachable(DependencyError):
    """The service did not answer (refused, timed out, DNS)."""


class DependencyMisconfigured(DependencyError):
    """The service answered but refused us, or the console lacks what it needs to reach it."""

    status = BindingStatus.MISCONFIGURED
    error_class = ErrorClass.DEPENDENCY_MISCONFIGURED


class RotationNotSupported(DependencyMisconfigured):
    """The service does not let the console change this credential itself."""


class PurgeBlocked(DependencyMisconfigured):
    """Removing the data would destroy something the caller did not explicitly agree to lose."""

    whose_move = WhoseMove.CUSTOMER


class ServiceProvider(Protocol[BindingT_contra]):
    """One kind of shared service, seen through one tenant's binding.

    - ``ensure`` provisions idempotently; a run that failed midway is finished by the next one.
      ``reset_credentials`` sets the stored credentials on the service again (after a check found them refused).
    - ``check`` never changes anything.
    - ``rotate`` starts a staged rotation: the new credential is live and stored, the previous one stays valid
      and is kept on the binding's ``previous_*`` fields.
    - ``revoke_previous`` ends it once every pod uses the new credential.
    - ``check_purge`` raises the first precondition of a purge that fails (unreachable, not this registry's,
      still used by something else, data left without ``force``) and changes nothing.
    - ``purge`` removes the tenant's share of the service; ``force`` also destroys data that is still there. It
      checks the preconditions again before its first destructive step.
    """

    def ensure(self, binding: BindingT_contra, *, reset_credentials: bool = False) -> None: ...

    def check(self, binding: BindingT_contra) -> CheckResult: ...

    def rotate(self, binding: BindingT_contra) -> None: ...

    def revoke_previous(self, binding: BindingT_contra) -> None: ...

    def check_purge(self, binding: BindingT_contra, force: bool = False) -> None: ...

    def purge(self, binding: BindingT_contra, force: bool = False) -> None: ...


class Stopwatch:
    """Milliseconds elapsed since creation (monotonic clock)."""

    def __init__(self) -> None:
        self._start = time.perf_counter()

    @property
    def ms(self) -> float:
        return round((time.perf_counter() - self._start) * 1000, 2)


def short(error: BaseException, limit: int = 200) -> str:
    """The first line of an error, trimmed: drivers put hints and context on the following lines."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
