"""Post-processing of the generated OpenAPI document (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``).

- Request bodies are closed: ``additionalProperties: false`` on every request component, because every write
  serializer refuses a field it does not have (:class:`provisioning.api.serializers.base.StrictFieldsMixin`);
  brief representations too.
- OpenAPI links, for clients and for stateful testing: an operation answering 202 links to the run it started
  (``GET /api/v1/runs/{id}/``), a registry's upgrade to its step-by-step upgrade, a bulk operation to its
  summary; a create answering 201 links to every operation on the object it created.
"""

from __future__ import annotations

from typing import Any

RUN_OPERATION = "v1_runs_retrieve"
RUN_SCHEMA = "#/components/schemas/ReconcileRun"
BULK_OPERATION = "v1_bulk_operations_retrieve"
BULK_SCHEMA = "#/components/schemas/BulkOperation"
UPGRADE_OPERATION = "v1_upgrades_retrieve"
UPGRADE_SCHEMA = "#/components/schemas/Upgrade"
METHODS = ("get", "put", "patch", "delete", "post")


def close_request_bodies(components: dict[str, Any]) -> None:
    """Request bodies, and the brief representations (so that a full object never also passes for a brief one
    in a list that may hold either)."""
    for name, component in components.items():
        closed = name.endswith(("Request", "Brief"))
        if closed and component.get("type") == "object" and "properties" in component:
            component["additionalProperties"] = False


def _operations(paths: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in paths.items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _link_name(operation_id: str) -> str:
    return operation_id.removeprefix("v1_")


def add_links(paths: dict[str, Any]) -> None:
    operations = _operations(paths)
    for path, _method, operation in operations:
        responses = operation.get("responses", {})
        accepted = responses.get("202", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if accepted.get("$ref") == RUN_SCHEMA:
            responses["202"]["links"] = {
                "run": {
                    "operationId": RUN_OPERATION,
                    "parameters": {"id": "$response.body#/id"},
                    "description": "The reconcile run this request started: poll it until it ends.",
                }
            }
        elif accepted.get("$ref") == UPGRADE_SCHEMA:
            responses["202"]["links"] = {
                "upgrade": {
                    "operationId": UPGRADE_OPERATION,
                    "parameters": {"id": "$response.body#/id"},
                    "description": "The step-by-step upgrade this request started: follow it until it ends.",
                }
            }
        elif accepted.get("$ref") == BULK_SCHEMA:
            responses["202"]["links"] = {
                "summary": {
                    "operationId": BULK_OPERATION,
                    "parameters": {"id": "$response.body#/id"},
                    "description": "The bulk operation this request started, with a run per registry: poll it.",
                }
            }
        created = responses.get("201")
        if created is None or path.count("{") or "content" not in created:
            continue
        links = {
            _link_name(other["operationId"]): {
                "operationId": other["operationId"],
                "parameters": {"id": "$response.body#/id"},
            }
            for other_path, _other_method, other in operations
            if other_path.startswith(path + "{id}/")
            and other_path.count("{") == 1
            and other.get("operationId")
        }
        if links:
            created["links"] = links


def postprocess(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    close_request_bodies(result.get("components", {}).get("schemas", {}))
    add_links(result.get("paths", {}))
    return result
