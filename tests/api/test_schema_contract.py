"""The schema a client generator reads: typed ids, closed request bodies, documented headers, links from an
operation to its run, every status an operation answers, monitoring inside the contract, and the committed copy
in docs/openapi.yaml the same as the generated one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    return target


def load(path):
    return yaml.safe_load(path.read_text())


def all_operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_the_committed_schema_is_the_generated_one(schema):
    assert COMMITTED.read_text() == schema.read_text(), "docs/openapi.yaml is stale: run `make openapi`"


def test_every_id_in_a_path_is_an_integer(schema):
    for path, _method, operation in all_operations(load(schema)):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path":
                assert parameter["schema"]["type"] == "integer", (path, parameter)


def test_request_bodies_refuse_unknown_fields(schema):
    components = load(schema)["components"]["schemas"]
    requests = {name: c for name, c in components.items() if name.endswith("Request") and "properties" in c}
    assert {"RegistryCreateRequest", "TenantRequest", "PatchedRegistryUpdateRequest"} <= set(requests)
    for name, component in requests.items():
        assert component["additionalProperties"] is False, name


def test_every_operation_documents_429_with_retry_after_and_400(schema):
    for path, method, operation in all_operations(load(schema)):
        responses = operation["responses"]
        assert "Retry-After" in responses["429"]["headers"], (path, method)
        assert {"400", "401", "403"} <= set(responses), (path, method)


def test_monitoring_is_inside_the_contract(schema):
    document = load(schema)
    error_ref = "#/components/schemas/Error"
    for path, method, operation in all_operations(document):
        if path.startswith("/api/v1/monitoring/"):
            assert operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"] == error_ref
            assert {"400", "403", "429"} <= set(operation["responses"]), (path, method)
            if "{id}" in path:
                assert "404" in operation["responses"], path
    fleet = {p["name"]: p for p in document["paths"]["/api/v1/monitoring/fleet/"]["get"]["parameters"]}
    assert fleet["limit"]["schema"]["maximum"] == 500 and fleet["offset"]["schema"]["minimum"] == 0
    assert "-storage_share" in fleet["sort"]["schema"]["enum"] or len(fleet["sort"]["schema"]["enum"]) > 2
    series = document["paths"]["/api/v1/monitoring/registries/{id}/series/"]["get"]["parameters"]
    query = next(p for p in series if p["name"] == "query")
    assert query["required"] is True and query["schema"]["maxItems"] == 10


def test_creates_document_the_idempotency_key_format_and_their_headers(schema):
    document = load(schema)
    create = document["paths"]["/api/v1/registries/"]["post"]
    key = next(p for p in create["parameters"] if p["name"] == "Idempotency-Key")["schema"]
    assert key["minLength"] == 1 and key["maxLength"] == 200 and key["pattern"]
    assert {"ETag", "Location", "Idempotent-Replayed"} <= set(create["responses"]["201"]["headers"])


def test_operations_answering_202_link_to_their_run(schema):
    document = load(schema)
    accepted = [(p, o) for p, _m, o in all_operations(document) if "202" in o["responses"]]
    assert len(accepted) >= 8
    for path, operation in accepted:
        links = operation["responses"]["202"]["links"]
        # what was started: the run, the summary of a bulk operation (a run per registry) or the step-by-step
        # upgrade of a registry
        name, expected = {
            "/api/v1/registries/bulk/": ("summary", "v1_bulk_operations_retrieve"),
            "/api/v1/registries/{id}/upgrade/": ("upgrade", "v1_upgrades_retrieve"),
        }.get(path, ("run", "v1_runs_retrieve"))
        link = links[name]
        assert link["operationId"] == expected, path
        assert link["parameters"] == {"id": "$response.body#/id"}
    created = document["paths"]["/api/v1/registries/"]["post"]["responses"]["201"]["links"]
    assert {"registries_retrieve", "registries_upgrade_create", "registries_purge_create"} <= set(created)


def test_conditional_reads_are_documented(schema):
    retrieve = load(schema)["paths"]["/api/v1/registries/{id}/"]["get"]
    assert any(p["name"] == "If-None-Match" for p in retrieve["parameters"])
    assert "ETag" in retrieve["responses"]["304"]["headers"]
