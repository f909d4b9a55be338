"""A request's trace continues in the Celery task it enqueues: the W3C trace context travels in the task message's
headers to a real worker (a subprocess exporting to the same in-process OTLP collector), whose task span, reconcile
span and calls hang under the request's span in one trace; the run records that trace and its page links to it.
With tracing off, or no span current, nothing is added to the message."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from celery import signals
from django.conf import settings
from django.urls import reverse

from harborconsole import tracing
from provisioning.choices import Phase, RunStatus
from provisioning.models import ReconcileRun, Registry
from provisioning.tasks import reconcile_registry
from tests import factories
from tests.api.conftest import token_client
from tests.tracing.test_reconcile_trace import Collector, attributes
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 60
TASK = "celery provisioning.tasks.reconcile_registry"
OPEN = (RunStatus.QUEUED, RunStatus.RUNNING)


@pytest.fixture
def collector() -> Iterator[Collector]:
    received = Collector()
    assert tracing.configure(received.url, service_name="harbor-console-web")
    try:
        yield received
    finally:
        tracing.shutdown()
        received.stop()


def wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {WAIT_SECONDS} s for {what}")


def settled(run_id: int) -> ReconcileRun | None:
    run = ReconcileRun.objects.get(pk=run_id)
    return run if run.status not in OPEN else None


def ancestors(span: Any, by_id: dict[bytes, Any]) -> list[Any]:
    chain = []
    while span.parent_span_id:
        span = by_id[span.parent_span_id]
        chain.append(span)
    return chain


def test_an_api_request_that_queues_a_reconcile_and_the_worker_that_runs_it_make_one_trace(
    collector, celery_worker_factory, make_emulated_cluster, admin_user, settings
):
    settings.TRACING_TRACE_URL = "http://127.0.0.1:16686/trace/{trace_id}"
    worker = celery_worker_factory(
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_SERVICE_NAME": "harbor-console-worker",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
    )
    cluster = make_emulated_cluster(queue=worker.queue)
    registry = factories.registry(
        cluster=cluster
    )  # queued outside any request: its run starts a trace of its own
    first = wait_for("the first run", lambda: settled(registry.runs.earliest("pk").pk))
    wait_for("no run left to do", lambda: not registry.runs.filter(status__in=OPEN).exists())
    assert Registry.objects.get(pk=registry.pk).phase == Phase.READY, first.message

    api = token_client(admin_user)
    answer = api.post(f"/api/v1/registries/{registry.pk}/reconcile/")
    assert answer.status_code == 202, answer.content
    run = wait_for("the requested run", lambda: settled(answer.json()["id"]))
    assert run.status == RunStatus.SUCCEEDED, run.message
    assert tracing.flush()

    [request] = [
        span
        for span in collector.spans
        if span.name.startswith("HTTP POST") and attributes(span)["url.path"].endswith("/reconcile/")
    ]
    trace_id = request.trace_id
    tasks = wait_for(
        "the worker's task span in the request's trace",
        lambda: [span for span in collector.named(TASK) if span.trace_id == trace_id],
    )
    [task] = tasks
    [reconcile] = wait_for(
        "the worker's reconcile span",
        lambda: [span for span in collector.named("reconcile") if span.trace_id == trace_id],
    )
    assert attributes(task)["harborconsole.run_id"] == run.pk
    assert task.parent_span_id == request.span_id
    assert reconcile.parent_span_id == task.span_id
    by_id = {span.span_id: span for span in collector.spans if span.trace_id == trace_id}
    kube = [span for span in by_id.values() if span.name.startswith("kube ")]
    assert kube, "the reconcile's Kubernetes calls are in the same trace"
    for span in (task, reconcile, *kube):
        assert request in ancestors(span, by_id), span.name
    assert run.trace_id == trace_id.hex()

    # The run queued by the create (no request span around it) is a trace of its own.
    assert first.trace_id and first.trace_id != run.trace_id
    [own] = [span for span in collector.named(TASK) if span.trace_id.hex() == first.trace_id]
    assert not own.parent_span_id

    page = logged_in(admin_user).get(reverse("provisioning:run-detail", args=[registry.pk, run.pk]))
    assert f'href="http://127.0.0.1:16686/trace/{run.trace_id}"' in page.content.decode()


@pytest.fixture
def published() -> Iterator[list[dict[str, Any]]]:
    """The headers of each task message published meanwhile (to a queue nobody consumes, emptied after)."""
    seen: list[dict[str, Any]] = []

    def keep(headers: dict[str, Any] | None = None, **_: Any) -> None:
        seen.append(dict(headers or {}))

    signals.before_task_publish.connect(keep, weak=False, dispatch_uid="test.published")
    try:
        yield seen
    finally:
        signals.before_task_publish.disconnect(dispatch_uid="test.published")
        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(f"nobody-{factories.RUN}")


def send() -> None:
    reconcile_registry.apply_async(args=(0,), queue=f"nobody-{factories.RUN}")


def test_a_message_carries_trace_context_only_when_a_span_is_current(collector, published):
    send()
    with tracing.span("enqueuing") as current:
        send()
    assert current is not None
    without, within = published
    assert "traceparent" not in without
    trace_id, span_id = tracing.trace_id_of(current), format(current.get_span_context().span_id, "016x")
    assert within["traceparent"].startswith(f"00-{trace_id}-{span_id}-")


def test_with_tracing_off_a_message_carries_no_trace_context(published, settings):
    settings.TRACING_OTLP_ENDPOINT = ""
    assert tracing.configure_from_settings() is False
    with tracing.span("nothing"):
        send()
    [headers] = published
    assert not {"traceparent", "tracestate"} & set(headers)
