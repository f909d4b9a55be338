"""The server-sent-events stream: viewers and above receive registry events as CloudEvents and resume after a
reconnection from Last-Event-ID; without a role or a login, nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from provisioning.events import stream
from provisioning.events.hooks import phase_changed
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/stream"


@pytest.fixture(autouse=True)
def _short_streams(settings):
    settings.EVENT_STREAM_HEARTBEAT_SECONDS = 1
    settings.EVENT_STREAM_LIFETIME_SECONDS = 3


def chunks_of(response: Any) -> Iterator[bytes]:
    """The body of a streaming answer, chunk by chunk, as the client receives it."""
    return iter(response.streaming_content)


def messages(chunks, count):
    """The next ``count`` SSE messages (not comments) as (id, event, data)."""
    found = []
    for chunk in chunks:
        text = chunk.decode()
        if text.startswith(("retry:", ":")):
            continue
        fields = dict(line.split(": ", 1) for line in text.strip().splitlines())
        found.append((fields["id"], fields["event"], json.loads(fields["data"])))
        if len(found) == count:
            break
    return found


def publish_phase_change(registry, old, new, capture):
    with capture(execute=True):
        phase_changed(registry.pk, old, new, run_id=None)


def test_a_viewer_receives_a_phase_change_and_resumes_from_last_event_id(
    viewer, django_capture_on_commit_callbacks
):
    registry = factories.registry()
    api = token_client(viewer)
    response = api.get(URL, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    chunks = chunks_of(response)
    assert next(chunks).startswith(b"retry:")  # the stream starts from now

    publish_phase_change(registry, "Pending", "Provisioning", django_capture_on_commit_callbacks)
    [(first_id, kind, event)] = messages(chunks, 1)
    assert kind == "message"
    assert event["type"] == "io.harbor-console.registry.phase_changed"
    assert event["subject"] == str(registry.pk)
    assert event["data"]["to"] == "Provisioning" and event["specversion"] == "1.0"

    # while disconnected, two more changes; the client resumes after the last id it saw
    publish_phase_change(registry, "Provisioning", "Ready", django_capture_on_commit_callbacks)
    publish_phase_change(registry, "Ready", "Degraded", django_capture_on_commit_callbacks)
    resumed = api.get(URL, HTTP_LAST_EVENT_ID=first_id)
    later = messages(chunks_of(resumed), 2)
    assert [e["data"]["to"] for _, _, e in later] == ["Ready", "Degraded"]
    assert [e["registrysequence"] for _, _, e in later] == [
        event["registrysequence"] + 1,
        event["registrysequence"] + 2,
    ]
    assert all(message_id > first_id for message_id, _, _ in later)


def test_the_stream_sends_heartbeats_and_ends_for_the_client_to_reconnect(viewer):
    response = token_client(viewer).get(URL)
    chunks = list(chunks_of(response))  # ends after EVENT_STREAM_LIFETIME_SECONDS
    assert b": heartbeat\n\n" in chunks


def test_a_registry_filter_keeps_only_its_events(viewer, django_capture_on_commit_callbacks):
    mine, other = factories.registry(), factories.registry()
    response = token_client(viewer).get(URL, {"registry": [mine.pk]})
    chunks = chunks_of(response)
    next(chunks)
    publish_phase_change(other, "Pending", "Ready", django_capture_on_commit_callbacks)
    publish_phase_change(mine, "Pending", "Failed", django_capture_on_commit_callbacks)
    [(_, _, event)] = messages(chunks, 1)
    assert event["subject"] == str(mine.pk)


def test_a_trimmed_stream_says_events_were_missed(viewer, settings, django_capture_on_commit_callbacks):
    registry = factories.registry()
    client = stream.client()
    client.delete(stream.key())
    publish_phase_change(registry, "Pending", "Provisioning", django_capture_on_commit_callbacks)
    newest: Any = client.xrevrange(stream.key(), count=1)
    first_id = newest[0][0].decode()
    for n in range(3):
        publish_phase_change(
            registry,
            "Provisioning" if n % 2 else "Ready",
            "Ready" if n % 2 else "Provisioning",
            django_capture_on_commit_callbacks,
        )
    client.xtrim(stream.key(), maxlen=1, approximate=False)
    response = token_client(viewer).get(URL, HTTP_LAST_EVENT_ID=first_id)
    [(_, kind, data)] = messages(chunks_of(response), 1)
    assert kind == "gap" and "trimmed" in data["message"]


@pytest.mark.parametrize(("persona", "status"), [("anonymous", 401), ("stranger", 403)])
def test_no_role_no_stream(client_for, persona, status):
    assert client_for(persona).get(URL).status_code == status


def test_a_bad_last_event_id_is_a_clear_400(viewer):
    answer = token_client(viewer).get(URL, HTTP_LAST_EVENT_ID="yesterday")
    assert answer.status_code == 400 and "Last-Event-ID" in answer.content.decode()


def test_without_redis_the_stream_says_so_in_the_error_shape(viewer, settings):
    settings.REDIS_URL = ""
    answer = token_client(viewer).get(URL)
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "stream_unavailable" and "REDIS_URL" in answer.content.decode()
