"""Fixtures of the event tests: a webhook receiver on 127.0.0.1 and a subscription pointing at it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from provisioning.models import WebhookSubscription
from tests.api.conftest import client_for  # noqa: F401 - the API tests' persona clients

SECRET = "a-webhook-secret-for-tests"


class Receiver:
    """Records every delivery; answers the statuses in ``answers`` first, then 204."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.answers: list[int] = []
        server.expect_request("/hook", method="POST").respond_with_handler(self.handle)

    def handle(self, request: Request) -> Response:
        self.received.append(({k.lower(): v for k, v in request.headers.items()}, request.get_data()))
        return Response(status=self.answers.pop(0) if self.answers else 204)

    @property
    def url(self) -> str:
        return self.server.url_for("/hook")

    def events(self) -> list[dict]:
        return [json.loads(body) for _, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield Receiver(server)
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def subscription(db, receiver, admin_user) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        name="pipeline", target_url=receiver.url, secret=SECRET, owner=admin_user
    )
