"""Property-based testing of the published schema with schemathesis: every operation of /api/v1/ (monitoring
included), positive and negative data, a bounded number of cases per operation, as an admin, an operator and a
viewer; then stateful sequences that follow the schema's links (create → act on what was created, 202 → its run).

Cases are the same on every run (``API_FUZZ_EXPLORE=1`` explores new ones). Checks: no server error; status
codes, content types, headers and bodies as the schema says; schema-violating requests refused; undocumented
methods answered 405 with a correct ``Allow``; missing required headers refused; no access without credentials;
in sequences, created objects reachable and deleted ones gone. Half of the generated object ids are swapped for
ids of real objects so that the happy paths run too, not only 404s. Positive-data acceptance is not checked: a
request valid for the schema may still name a tenant or cluster that does not exist, which is a documented 400.
Object-level authorization is the role matrix's (tests/api/test_role_matrix.py); response time is not asserted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import schemathesis
import yaml
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework.test import APIClient
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from provisioning.choices import Via
from provisioning.models import ApiToken, AuditEvent, BulkOperation, Plan, Wave, WebhookSubscription
from provisioning.upgrades.operation import start_upgrade
from provisioning.upgrades.waves import plan_wave
from tests import factories
from tests.api.conftest import provisioned

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    unsupported_method,
    allow_header_conformance,
    missing_required_header,
]
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
PERSONAS = ("admin", "operator", "viewer")
EXAMPLES_PER_OPERATION = 5
"""Per operation and persona (15 cases an operation in all): the file stays near three minutes on 2 cores."""
STATEFUL_SCENARIOS = 5
# The same cases on every run, so that the suite never flakes; API_FUZZ_EXPLORE=1 explores new ones instead.
EXPLORE_SEED = os.environ.get("API_FUZZ_EXPLORE")


@schemathesis.deserializer("text/yaml")
def yaml_stream(ctx: Any, response: Any) -> str:
    """The manifests export is a stream of YAML documents, described as a string: check that it parses, then
    validate it as the string it is."""
    text = response.content.decode(response.encoding or "utf-8")
    list(yaml.safe_load_all(text))
    return text


class KeepConnectionApp(WSGIHandler):
    """Django's WSGI app without closing the database connection after each request: the test's transaction
    (and the rows it created) must survive every generated request, as with Django's test client."""

    def __call__(self, environ: Any, start_response: Any) -> Any:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            return super().__call__(environ, start_response)
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


@pytest.fixture
def known_ids(admin_user) -> dict[str, int]:
    """An object of each resource for generated requests to act on."""
    registry = provisioned(factories.registry())
    spare_token, _ = ApiToken.issue(admin_user, "spare")
    return {
        "tenants": factories.tenant().pk,
        "plans": Plan.objects.create(name=f"st{factories.RUN}", display_name="Schemathesis").pk,
        "clusters": factories.cluster().pk,
        "registries": registry.pk,
        "runs": registry.runs.get().pk,
        "audit-events": AuditEvent.objects.filter(registry=registry).latest("id").pk,
        "tokens": spare_token.pk,
        "webhooks": WebhookSubscription.objects.create(
            name="st", target_url="http://127.0.0.1:1/", secret="s" * 16
        ).pk,
        "bulk-operations": BulkOperation.objects.create(action="reconcile").pk,
        # an upgrade halted at its pre-flight, and a wave planned over the registry
        "upgrades": start_upgrade(registry, "2.15.2", actor=admin_user, via=Via.API, drive=False).pk,
        "waves": plan_wave(
            Wave(name="st", target_version="2.15.2", batch_size=2), actor=admin_user, via=Via.API
        ).pk,
    }


@pytest.fixture
def admin_token(admin_user) -> str:
    _, raw = ApiToken.issue(admin_user, "schemathesis")
    return raw


@pytest.fixture(params=PERSONAS)
def persona_token(request) -> str:
    """A token of a user with the role of the parameter."""
    user = request.getfixturevalue("admin_user" if request.param == "admin" else request.param)
    _, raw = ApiToken.issue(user, f"schemathesis {request.param}")
    return raw


def published_schema() -> dict[str, Any]:
    """The document /api/schema/ serves, generated the same way (no request or database is needed for it)."""
    generator = SchemaGenerator()
    return json.loads(OpenApiJsonRenderer().render(generator.get_schema(request=None, public=True)))


# The event stream answers for minutes by design: tests/events/test_stream.py covers it.
schema = schemathesis.openapi.from_dict(published_schema()).exclude(path_regex=r"^/api/v1/events/stream$")
schema.app = KeepConnectionApp()
schema.config.generation.update(
    max_examples=EXAMPLES_PER_OPERATION, modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
)


def test_the_tested_schema_is_the_published_one(admin_token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {admin_token}")
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json() == published_schema()


LOCAL_REFUSING_PORT = 1
"""Nothing listens on 127.0.0.1:1: a connection is refused at once and never leaves the machine."""


def keep_cluster_probes_local(case: Any) -> None:
    """Saving a cluster or a service endpoint contacts it (API server, PostgreSQL, S3, Redis): every generated URL
    and host name in a body is swapped for a local address that refuses at once, so no request ever leaves the
    machine whatever the fuzzer invents (validity is unchanged: only the host part moves)."""
    body = case.body if isinstance(case.body, dict) else {}
    for key, value in list(body.items()):
        if not isinstance(value, str):
            continue
        parts = urlsplit(value)
        if parts.scheme and parts.netloc:
            credentials = parts.netloc.rpartition("@")[0]
            netloc = f"{credentials}@" if credentials else ""
            body[key] = parts._replace(netloc=f"{netloc}127.0.0.1:{LOCAL_REFUSING_PORT}").geturl()
        elif key in ("host", "hostname_or_ip", "address") and value:
            body[key] = "127.0.0.1"


@schema.auth(refresh_interval=None)
class PersonaAuth:
    """The persona token of the running test, as schemathesis's own credentials: the ignored-auth check then
    knows them for valid and probes without them (and with invalid ones) itself."""

    token = ""

    def get(self, case: Any, context: Any) -> str:
        return PersonaAuth.token

    def set(self, case: Any, data: str, context: Any) -> None:
        if case.cookies:
            case.cookies.pop("sessionid", None)  # the token is the one credential sent
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def persona_auth(persona_token: str) -> Iterator[str]:
    PersonaAuth.token = persona_token
    yield persona_token
    PersonaAuth.token = ""


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=EXPLORE_SEED is None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_the_api_keeps_to_its_schema(case, known_ids, persona_auth):
    keep_cluster_probes_local(case)
    path_id = case.path_parameters.get("id") if case.path_parameters else None
    negative_path = case.meta is not None and case.meta.is_negative_at(ParameterLocation.PATH)
    if isinstance(path_id, int) and path_id % 2 == 0 and not negative_path:
        resource = case.path.split("/")[3]
        case.path_parameters["id"] = known_ids["registries" if resource == "monitoring" else resource]
    case.call_and_validate(checks=CHECKS)


def test_sequences_that_follow_the_links_keep_to_the_schema(known_ids, persona_auth):
    """Create an object, then act on it through the links of the 201 (read, change, operate, delete); follow a
    202 to its run. Bounded: a few scenarios of three steps each, the same on every run."""

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Any) -> None:
            keep_cluster_probes_local(case)

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            kwargs.pop("additional_checks", None)
            case.validate_response(response, checks=STATEFUL_CHECKS, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=3,
            deadline=None,
            derandomize=EXPLORE_SEED is None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
