"""The Prometheus source against a scripted HTTP server: credentials, errors, cache, evaluation time."""

from __future__ import annotations

import json

import pytest
from werkzeug import Request, Response

from monitoring.prometheus import PrometheusSource, RangeSpec, Status, capture_queries, display_url
from tests.fixtures.prometheus import clear_prometheus_cache


def vector(*items: tuple[dict[str, str], str]) -> dict:
    return {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": m, "value": [1.0, v]} for m, v in items]},
    }


@pytest.fixture(autouse=True)
def _clean_cache(db) -> None:
    clear_prometheus_cache()


def test_sends_the_bearer_token_the_time_and_a_timeout(httpserver) -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(json.dumps(vector(({"namespace": "a"}, "1.5"))), content_type="application/json")

    httpserver.expect_request("/api/v1/query").respond_with_handler(handler)
    source = PrometheusSource(httpserver.url_for("/"), token="s3cret", timeout=2, cache_seconds=30)
    batch = source.instant({"q": "up"})
    assert batch.ok and batch["q"].by() == {"a": 1.5}
    (request,) = seen
    assert request.headers["Authorization"] == "Bearer s3cret"
    assert request.args["time"] == f"{batch.evaluated_at:.3f}"
    assert batch.evaluated_at % 30 == 0
    assert request.args["timeout"].endswith("ms")


def test_cached_answers_are_not_asked_again_and_are_shared_by_key(httpserver) -> None:
    httpserver.expect_request("/api/v1/query").respond_with_json(vector(({"namespace": "a"}, "2")))
    source = PrometheusSource(httpserver.url_for("/"), cache_seconds=30)
    with capture_queries() as sent:
        first = source.instant({"x": "up", "y": "up"})
        again = PrometheusSource(httpserver.url_for("/"), cache_seconds=30).instant({"x": "up"})
    assert first["x"].by() == again["x"].by() == {"a": 2.0}
    assert len(sent) == 2  # one per query of the first batch; the second batch came from the cache


def test_no_cache_when_caching_is_off(httpserver) -> None:
    httpserver.expect_request("/api/v1/query").respond_with_json(vector(({}, "1")))
    source = PrometheusSource(httpserver.url_for("/"), cache_seconds=0)
    with capture_queries() as sent:
        source.instant({"x": "up"})
        source.instant({"x": "up"})
    assert len(sent) == 2


def test_a_bad_query_is_an_error_for_that_query_only(httpserver) -> None:
    def handler(request: Request) -> Response:
        if request.args["query"] == "bad(":
            body = {"status": "error", "errorType": "bad_data", "error": "parse error"}
            return Response(json.dumps(body), status=400, content_type="application/json")
        return Response(json.dumps(vector(({}, "3"))), content_type="application/json")

    httpserver.expect_request("/api/v1/query").respond_with_handler(handler)
    batch = PrometheusSource(httpserver.url_for("/"), cache_seconds=30).instant({"good": "up", "bad": "bad("})
    assert batch.status == Status.ERROR
    assert batch["good"].ok and batch["good"].by() == {"": 3.0}
    assert batch["bad"].status == Status.ERROR and "bad_data: parse error" in batch["bad"].reason
    assert batch.message.startswith("Some metrics are missing: bad:")


def test_not_prometheus_says_so(httpserver) -> None:
    httpserver.expect_request("/api/v1/query").respond_with_data(
        "<html>login</html>", content_type="text/html"
    )
    batch = PrometheusSource(httpserver.url_for("/"), cache_seconds=0).instant({"x": "up"})
    assert batch.status == Status.UNAVAILABLE
    assert "without its JSON API: check PROMETHEUS_URL" in batch.reason


def test_nan_and_infinity_are_no_figure(httpserver) -> None:
    httpserver.expect_request("/api/v1/query").respond_with_json(
        vector(({"namespace": "a"}, "NaN"), ({"namespace": "b"}, "+Inf"), ({"namespace": "c"}, "0.25"))
    )
    batch = PrometheusSource(httpserver.url_for("/"), cache_seconds=0).instant({"x": "up"})
    assert batch["x"].by() == {"a": None, "b": None, "c": 0.25}


def test_range_queries_parse_points(httpserver) -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"namespace": "a"}, "values": [[60, "1"], [120, "NaN"]]}],
        },
    }
    httpserver.expect_request("/api/v1/query_range").respond_with_json(body)
    batch = PrometheusSource(httpserver.url_for("/"), cache_seconds=0).range(
        {"x": "up"}, RangeSpec(0, 120, 60)
    )
    (series,) = batch["x"].series
    assert series.points == [(60.0, 1.0), (120.0, None)]


def test_messages_never_show_credentials_in_the_url() -> None:
    assert display_url("https://user:pw@prom.example:9090/prefix") == "https://prom.example:9090/prefix"


def test_a_broken_cache_does_not_break_the_figures(httpserver, monkeypatch) -> None:
    from django.core.cache import cache

    refused: list[str] = []

    def refuse(*args, **kwargs):
        refused.append("x")
        raise ConnectionError("Redis is away")

    for name in ("get", "get_many", "set", "set_many"):
        monkeypatch.setattr(cache, name, refuse)
    httpserver.expect_request("/api/v1/query").respond_with_json(vector(({"namespace": "a"}, "7")))
    batch = PrometheusSource(httpserver.url_for("/"), cache_seconds=30).instant({"x": "up"})
    assert batch.ok and batch["x"].by() == {"a": 7.0}
    assert len(refused) >= 2  # the cache was asked, failed, and the figures came from Prometheus
