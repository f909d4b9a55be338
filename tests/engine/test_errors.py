"""Every failure gets a stable error class, transient or permanent, and whose move it is."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError

from provisioning.choices import ErrorClass, WhoseMove
from provisioning.kube import KubeApiError, KubeConfigError, KubeUnreachable
from provisioning.reconcile.errors import DependenciesNotReady, InvalidSpec, classify


def api(status: int, message: str = "boom", reason: str = "Reason") -> KubeApiError:
    return KubeApiError(status, reason, message, verb="apply", what="Deployment ns/r-core")


@pytest.mark.parametrize(
    ("error", "error_class", "transient", "whose_move"),
    [
        (api(409, reason="Conflict"), ErrorClass.API_CONFLICT, True, WhoseMove.TRANSIENT),
        (api(404, reason="NotFound"), ErrorClass.API_CONFLICT, True, WhoseMove.TRANSIENT),
        (api(500), ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT),
        (api(503), ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT),
        (api(429), ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT),
        (
            api(403, "pods are forbidden: exceeded quota: q"),
            ErrorClass.QUOTA_EXCEEDED,
            False,
            WhoseMove.CUSTOMER,
        ),
        (api(403, "forbidden"), ErrorClass.API_FORBIDDEN, False, WhoseMove.PROVIDER),
        (api(401), ErrorClass.API_FORBIDDEN, False, WhoseMove.PROVIDER),
        (api(422, "spec.replicas: Invalid value"), ErrorClass.API_INVALID, False, WhoseMove.PROVIDER),
        (KubeUnreachable("connection refused"), ErrorClass.CLUSTER_UNREACHABLE, True, WhoseMove.TRANSIENT),
        (KubeConfigError("bad kubeconfig"), ErrorClass.CLUSTER_UNREACHABLE, False, WhoseMove.PROVIDER),
        (InvalidSpec("hostname 'x' is not a DNS name."), ErrorClass.INVALID_SPEC, False, WhoseMove.PROVIDER),
        (
            DependenciesNotReady("database down", WhoseMove.PROVIDER, ErrorClass.DEPENDENCY_UNREACHABLE),
            ErrorClass.DEPENDENCY_UNREACHABLE,
            True,
            WhoseMove.PROVIDER,
        ),
        (
            DependenciesNotReady("bucket refused", WhoseMove.CUSTOMER, ErrorClass.DEPENDENCY_MISCONFIGURED),
            ErrorClass.DEPENDENCY_MISCONFIGURED,
            True,
            WhoseMove.CUSTOMER,
        ),
        (OperationalError("server closed the connection"), ErrorClass.INTERNAL, True, WhoseMove.TRANSIENT),
        (RedisConnectionError("Connection refused"), ErrorClass.INTERNAL, True, WhoseMove.TRANSIENT),
        (RuntimeError("a bug"), ErrorClass.INTERNAL, False, WhoseMove.PROVIDER),
    ],
)
def test_classification(error, error_class, transient, whose_move):
    failure = classify(error)
    assert (failure.error_class, failure.transient, failure.whose_move) == (
        error_class,
        transient,
        whose_move,
    )
    assert failure.message.endswith(".") and failure.message[0].isupper()
    assert failure.reason.isalnum() and failure.reason[0].isupper()


def test_the_message_says_what_was_asked_and_what_the_api_answered():
    failure = classify(
        KubeApiError(503, "ServiceUnavailable", "try later", verb="apply", what="Deployment ns/r-core")
    )
    assert failure.message == (
        "The Kubernetes API answered 503 ServiceUnavailable to apply Deployment ns/r-core: try later."
    )
    assert failure.reason == "ApiUnavailable"


def test_retry_after_is_carried_for_the_backoff():
    error = KubeApiError(429, "TooManyRequests", "slow down", retry_after=7)
    assert classify(error).retry_after == 7
