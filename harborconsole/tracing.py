"""OpenTelemetry tracing: spans around each reconcile, Kubernetes call, external-service call, Celery task and HTTP
request, exported over OTLP/HTTP only when an endpoint is configured.

``TRACING_OTLP_ENDPOINT`` (read from ``OTEL_EXPORTER_OTLP_ENDPOINT``) is the collector's base URL; spans go to
``<endpoint>/v1/traces`` in batches. Without it nothing is set up: every helper here checks one module global and
calls straight through, so tracing costs nothing measurable when it is off. The console keeps its own tracer
provider (not OpenTelemetry's process-wide one), so tests can point it at a collector of their own and back.

Attributes carry the console's ids: ``harborconsole.registry_id`` and ``harborconsole.run_id``. A run records the
trace id of its reconcile span (``ReconcileRun.trace_id``), shown on the run page and in the run API.

A task sent while a span is current (e.g. the reconcile a request queues) carries the W3C trace context
(``traceparent``/``tracestate``) in its message headers; the worker's task span continues that trace, so the request's
span is an ancestor of the task's, the reconcile's and their calls' spans.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

REGISTRY_ID = "harborconsole.registry_id"
RUN_ID = "harborconsole.run_id"

_provider: TracerProvider | None = None
_tracer: trace.Tracer | None = None


def enabled() -> bool:
    return _tracer is not None


def configure(
    endpoint: str = "", *, service_name: str = "harbor-console", processor: SpanProcessor | None = None
) -> bool:
    """Trace from now on, exporting to the OTLP/HTTP collector at ``endpoint`` (its base URL), or through
    ``processor``; with neither, turn tracing off. Returns whether tracing is on."""
    global _provider, _tracer
    shutdown()
    if processor is None and not endpoint:
        return False
    if processor is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces"))
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(processor)
    _provider, _tracer = provider, provider.get_tracer("harborconsole")
    return True


def configure_from_settings() -> bool:
    """Set tracing up as the settings say (``TRACING_OTLP_ENDPOINT``, ``TRACING_SERVICE_NAME``)."""
    from django.conf import settings

    endpoint = getattr(settings, "TRACING_OTLP_ENDPOINT", "")
    name = getattr(settings, "TRACING_SERVICE_NAME", "harbor-console")
    on = configure(endpoint, service_name=name)
    if on:
        logger.info("tracing: exporting spans over OTLP/HTTP to %s", endpoint)
    return on


def flush(timeout_millis: int = 5000) -> bool:
    """Export every finished span now (tests, and before a process exits)."""
    return _provider.force_flush(timeout_millis) if _provider is not None else True


def shutdown() -> None:
    global _provider, _tracer
    if _provider is not None:
        _provider.shutdown()
    _provider, _tracer = None, None


def trace_id_of(span: Span | None) -> str:
    """The span's trace id as 32 hex digits, or '' for no span (tracing off)."""
    if span is None or not span.get_span_context().is_valid:
        return ""
    return format(span.get_span_context().trace_id, "032x")


@contextmanager
def span(
    name: str, attributes: Mapping[str, Any] | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> Iterator[Span | None]:
    """A span around the block (``None`` when tracing is off); an exception marks it as an error."""
    tracer = _tracer
    if tracer is None:
        yield None
        return
    clean = {key: value for key, value in (attributes or {}).items() if value is not None and value != ""}
    with tracer.start_as_current_span(name, kind=kind, attributes=clean) as current:
        yield current


def set_attributes(**attributes: Any) -> None:
    """Add attributes to the current span (nothing when tracing is off)."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    for key, value in attributes.items():
        if value is not None and value != "":
            current.set_attribute(key, value)


def trace_url(trace_id: str) -> str:
    """Where a trace is shown (``TRACING_TRACE_URL`` with ``{trace_id}``), or '' when none is configured."""
    from django.conf import settings

    template = getattr(settings, "TRACING_TRACE_URL", "")
    return template.replace("{trace_id}", trace_id) if template and trace_id else ""


# ---- reconcile --------------------------------------------------------------------------------------------


def traced_reconcile(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate ``reconcile(registry_id, run_id, ...)``: one span per reconcile, its registry and run ids as
    attributes (the run's also once it is claimed, see :func:`note_run`)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if _tracer is None:
            return function(*args, **kwargs)
        registry_id = args[0] if args else kwargs.get("registry_id")
        run_id = args[1] if len(args) > 1 else kwargs.get("run_id")
        attributes = {
            REGISTRY_ID: registry_id,
            RUN_ID: run_id,
            "harborconsole.trigger": kwargs.get("trigger"),
        }
        with span("reconcile", attributes) as current:
            outcome = function(*args, **kwargs)
            if current is not None:
                current.set_attribute("harborconsole.status", str(getattr(outcome, "status", "")))
                failure = getattr(outcome, "failure", None)
                if failure is not None:
                    current.set_status(Status(StatusCode.ERROR, str(getattr(failure, "message", failure))))
            return outcome

    return wrapper


def note_run(run: Any) -> None:
    """Record the current trace id on the claimed run (and its id on the span); nothing when tracing is off."""
    if _tracer is None:
        return
    current = trace.get_current_span()
    trace_id = trace_id_of(current)
    if not trace_id:
        return
    if run.pk is None:  # a sweep's run, saved only if it does something: it keeps the id when it is
        run.trace_id = trace_id
        return
    current.set_attribute(RUN_ID, run.pk)
    if run.trace_id != trace_id:
        run.trace_id = trace_id
        type(run).objects.filter(pk=run.pk).update(trace_id=trace_id)


# ---- Kubernetes and external services ---------------------------------------------------------------------


def traced_kube_request(function: Callable[..., R]) -> Callable[..., R]:
    """Decorate ``KubeGateway._request(self, verb, what, method, path, ...)``: one client span per API call."""

    @functools.wraps(function)
    def wrapper(self: Any, verb: str, what: str, method: str, path: str, *args: Any, **kwargs: Any) -> R:
        if _tracer is None:
            return function(self, verb, what, method, path, *args, **kwargs)
        attributes = {
            "http.request.method": method,
            "url.path": path,
            "server.address": getattr(self, "host", ""),
            "k8s.verb": verb,
            "k8s.object": what,
        }
        with span(f"kube {verb}", attributes, SpanKind.CLIENT) as current:
            try:
                return function(self, verb, what, method, path, *args, **kwargs)
            except Exception as error:
                status = getattr(error, "status", None)
                if current is not None and isinstance(status, int):
                    current.set_attribute("http.response.status_code", status)
                raise

    return wrapper


PROVIDER_METHODS = frozenset({"ensure", "check", "rotate", "revoke_previous", "check_purge", "purge"})


class TracedProvider:
    """A service provider (PostgreSQL, Redis, S3) whose calls each get a client span."""

    def __init__(self, provider: Any, kind: str) -> None:
        self._provider = provider
        self._kind = kind

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._provider, name)
        if name not in PROVIDER_METHODS or not callable(value):
            return value

        @functools.wraps(value)
        def call(binding: Any, *args: Any, **kwargs: Any) -> Any:
            attributes = {
                REGISTRY_ID: getattr(binding, "registry_id", None),
                "harborconsole.service": self._kind,
                "harborconsole.provider": type(self._provider).__name__,
            }
            with span(f"{self._kind} {name}", attributes, SpanKind.CLIENT):
                return value(binding, *args, **kwargs)

        return call


def traced_provider(provider: object, kind: str) -> Any:
    """``provider`` with a span around each of its calls, or itself when tracing is off."""
    return provider if _tracer is None else TracedProvider(provider, kind)


# ---- Celery tasks ------------------------------------------------------------------------------------------

_task_spans: dict[str, tuple[Span, object]] = {}
_propagator = TraceContextTextMapPropagator()


def _task_published(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """Put the current trace context into a task message's headers (nothing without a current span)."""
    if _tracer is None or headers is None or not trace.get_current_span().get_span_context().is_valid:
        return
    _propagator.inject(headers)


def _sender_context(task: Any) -> otel_context.Context | None:
    """The trace context the task's message carries (its headers are attributes of the request), if any."""
    request = getattr(task, "request", None)
    carrier = {name: getattr(request, name, None) for name in _propagator.fields}
    carrier = {name: value for name, value in carrier.items() if isinstance(value, str)}
    return _propagator.extract(carrier) if carrier else None


def _task_started(task_id: str = "", task: Any = None, args: Any = (), kwargs: Any = None, **_: Any) -> None:
    if _tracer is None or not task_id:
        return
    kwargs = kwargs or {}
    attributes = {
        "celery.task_name": getattr(task, "name", ""),
        "celery.task_id": task_id,
        RUN_ID: kwargs.get("run_id"),
        REGISTRY_ID: args[0] if args and isinstance(args[0], int) else kwargs.get("registry_id"),
    }
    started = _tracer.start_span(
        f"celery {getattr(task, 'name', 'task')}",
        context=_sender_context(task),  # None: the current context (an eager task runs inside its caller)
        kind=SpanKind.CONSUMER,
        attributes={k: v for k, v in attributes.items() if v not in (None, "")},
    )
    token = otel_context.attach(trace.set_span_in_context(started))
    _task_spans[task_id] = (started, token)


def _task_finished(task_id: str = "", state: str = "", **_: Any) -> None:
    held = _task_spans.pop(task_id, None)
    if held is None:
        return
    started, token = held
    if state:
        started.set_attribute("celery.state", state)
    if state == "FAILURE":
        started.set_status(Status(StatusCode.ERROR))
    otel_context.detach(token)  # type: ignore[arg-type]
    started.end()


def connect_celery_signals() -> None:
    """Carry the trace context in the messages of tasks sent; open a span when a task starts (a child of the
    sender's span when its message carries one) and close it when it ends (eager tasks included)."""
    from celery import signals

    signals.before_task_publish.connect(
        _task_published, weak=False, dispatch_uid="harborconsole.tracing.publish"
    )
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="harborconsole.tracing.prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="harborconsole.tracing.postrun")


# ---- HTTP requests -----------------------------------------------------------------------------------------


class TracingMiddleware:
    """One server span per HTTP request, named by its route, with the registry id of registry pages."""

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if _tracer is None:
            return self.get_response(request)
        attributes = {"http.request.method": request.method, "url.path": request.path}
        with span(f"HTTP {request.method}", attributes, SpanKind.SERVER) as current:
            response = self.get_response(request)
            if current is not None:
                current.set_attribute("http.response.status_code", response.status_code)
                match = getattr(request, "resolver_match", None)
                if match is not None:
                    route = str(match.route)
                    current.update_name(f"HTTP {request.method} /{route}")
                    current.set_attribute("http.route", route)
                    pk = str(match.kwargs.get("pk", ""))
                    if pk.isdigit() and "registries" in route:
                        current.set_attribute(REGISTRY_ID, int(pk))
                    elif pk.isdigit() and "runs" in route:
                        current.set_attribute(RUN_ID, int(pk))
                    run_pk = str(match.kwargs.get("run_pk", ""))
                    if run_pk.isdigit():
                        current.set_attribute(RUN_ID, int(run_pk))
                if response.status_code >= 500:
                    current.set_status(Status(StatusCode.ERROR))
            return response
