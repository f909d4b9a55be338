"""Per-token rate limits: past API_RATE_LIMIT a token is answered 429 with Retry-After; other tokens are not."""

from __future__ import annotations

import pytest

from tests.api.conftest import token_client
from tests.api.test_errors import assert_error_shape

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rate(settings):
    settings.API_RATE_LIMIT = "3/min"


def test_a_token_past_its_rate_is_answered_429_with_retry_after(low_rate, viewer):
    client = token_client(viewer)
    for _ in range(3):
        assert client.get("/api/v1/plans/").status_code == 200
    response = client.get("/api/v1/plans/")
    assert_error_shape(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_the_limit_is_per_token(low_rate, viewer):
    first, second = token_client(viewer), token_client(viewer)
    for _ in range(3):
        first.get("/api/v1/plans/")
    assert first.get("/api/v1/plans/").status_code == 429
    assert second.get("/api/v1/plans/").status_code == 200


def test_monitoring_endpoints_are_limited_too(low_rate, viewer):
    client = token_client(viewer)
    for _ in range(3):
        client.get("/api/v1/monitoring/queries/")
    assert_error_shape(client.get("/api/v1/monitoring/queries/"), 429, "throttled")


def test_an_empty_rate_turns_the_limit_off(settings, viewer):
    settings.API_RATE_LIMIT = ""
    client = token_client(viewer)
    assert all(client.get("/api/v1/plans/").status_code == 200 for _ in range(5))
