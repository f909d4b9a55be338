"""Tracing end to end: an in-process OTLP/HTTP collector on 127.0.0.1 receives the spans of one reconcile (run as
its Celery task, on the emulator, with the real local PostgreSQL and S3), parent and children linked; the run page
and the run API show the trace id; with no endpoint nothing is traced."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.urls import reverse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from harborconsole import tracing
from provisioning.choices import Phase
from provisioning.models import ReconcileRun
from provisioning.reconcile import reconcile
from provisioning.tasks import reconcile_registry
from tests import factories
from tests.api.conftest import token_client
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db(transaction=True)


class Collector:
    """What an OTLP/HTTP collector received: every span, decoded from the protobuf requests."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportTraceServiceRequest.FromString(body)
                with collector.lock:
                    collector.paths.append(self.path)
                    for resource_spans in request.resource_spans:
                        for scope_spans in resource_spans.scope_spans:
                            collector.spans.extend(scope_spans.spans)
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def named(self, name: str) -> list[Any]:
        return [span for span in self.spans if span.name == name]


def attributes(span: Any) -> dict[str, Any]:
    values = {}
    for item in span.attributes:
        kind = item.value.WhichOneof("value")
        values[item.key] = getattr(item.value, kind) if kind else None
    return values


@pytest.fixture
def collector() -> Iterator[Collector]:
    received = Collector()
    assert tracing.configure(received.url, service_name="harbor-console-test")
    try:
        yield received
    finally:
        tracing.shutdown()
        received.stop()


def test_a_collector_receives_one_reconcile_with_its_kube_and_service_calls_as_children(
    collector, emulated_cluster, admin_user
):
    registry = factories.registry(cluster=emulated_cluster)
    run = registry.runs.get()

    reconcile_registry.apply(args=(registry.pk,), kwargs={"run_id": run.pk})
    run.refresh_from_db()
    registry.refresh_from_db()
    assert registry.phase == Phase.READY
    page = logged_in(admin_user).get(reverse("provisioning:run-detail", args=[registry.pk, run.pk]))
    api = token_client(admin_user).get(f"/api/v1/runs/{run.pk}/")
    assert tracing.flush()

    assert set(collector.paths) == {"/v1/traces"}
    [root] = collector.named("reconcile")
    [task] = collector.named("celery provisioning.tasks.reconcile_registry")
    assert attributes(root)["harborconsole.registry_id"] == registry.pk
    assert attributes(root)["harborconsole.run_id"] == run.pk
    assert attributes(task)["harborconsole.run_id"] == run.pk
    assert root.parent_span_id == task.span_id and not task.parent_span_id

    trace_id = root.trace_id
    assert run.trace_id == trace_id.hex() and len(run.trace_id) == 32
    in_trace = [span for span in collector.spans if span.trace_id == trace_id]
    kube = [span for span in in_trace if span.name.startswith("kube ")]
    services = [span for span in in_trace if attributes(span).get("harborconsole.service")]
    assert {span.name for span in kube} >= {"kube apply", "kube list"}
    assert {attributes(span)["harborconsole.service"] for span in services} >= {"database", "storage"}
    for child in kube + services:
        assert child.parent_span_id == root.span_id, child.name
    for child in services:
        assert attributes(child)["harborconsole.registry_id"] == registry.pk
    # Every span of the trace hangs from the task's span: no orphan parent ids.
    span_ids = {span.span_id for span in in_trace}
    assert all(span.parent_span_id in span_ids for span in in_trace if span is not task)

    # The run page and the run API show the trace id; their own requests are traced as server spans.
    assert run.trace_id in page.content.decode()
    assert api.json()["trace_id"] == run.trace_id
    requests = [span for span in collector.spans if span.name.startswith("HTTP GET")]
    run_page = next(span for span in requests if attributes(span)["url.path"].endswith(f"/runs/{run.pk}/"))
    assert attributes(run_page)["harborconsole.registry_id"] == registry.pk
    assert attributes(run_page)["http.response.status_code"] == 200
    assert attributes(run_page)["harborconsole.run_id"] == run.pk
    run_api = next(span for span in requests if attributes(span)["url.path"] == f"/api/v1/runs/{run.pk}/")
    assert attributes(run_api)["harborconsole.run_id"] == run.pk


def test_a_request_with_a_non_numeric_id_is_traced_and_answered_as_without_tracing(collector, admin_user):
    answer = token_client(admin_user).get("/api/v1/registries/not-a-number/")
    assert answer.status_code == 404
    assert tracing.flush()
    [request] = [span for span in collector.spans if span.name.startswith("HTTP GET")]
    assert attributes(request)["http.response.status_code"] == 404
    assert "harborconsole.registry_id" not in attributes(request)


def test_without_an_endpoint_nothing_is_traced_and_runs_carry_no_trace_id(emulated_cluster, settings):
    settings.TRACING_OTLP_ENDPOINT = ""
    assert tracing.configure_from_settings() is False
    assert not tracing.enabled()
    registry = factories.registry(cluster=emulated_cluster)
    run = registry.runs.get()
    assert reconcile(registry.pk, run.pk).phase == Phase.READY
    assert ReconcileRun.objects.get(pk=run.pk).trace_id == ""
    with tracing.span("anything") as current:
        assert current is None


def test_the_settings_endpoint_turns_tracing_on(settings):
    received = Collector()
    try:
        settings.TRACING_OTLP_ENDPOINT = received.url
        assert tracing.configure_from_settings() is True
        with tracing.span("probe", {"harborconsole.registry_id": 7}):
            pass
        assert tracing.flush()
        [probe] = received.named("probe")
        assert attributes(probe) == {"harborconsole.registry_id": 7}
    finally:
        tracing.shutdown()
        received.stop()
