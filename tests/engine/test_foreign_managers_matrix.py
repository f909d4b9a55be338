"""Invariants over every rendered stack: a stack the console just applied is never drift, and an entry another
field manager adds to any keyed list of any object is reported once as foreign, never re-applied, and removable.

Ownership is built here the way the API server's structured-merge-diff records a server-side apply, from the
Kubernetes OpenAPI schema that ``kubernetes-validate`` ships (``x-kubernetes-list-type``,
``x-kubernetes-list-map-keys``, ``x-kubernetes-map-type``): an independent source, not the console's own table of
keyed lists. Pure: rendering and comparison only, no cluster, no database.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonpatch
import kubernetes_validate
import pytest

from provisioning.reconcile.compare import REPAIR_UPDATE, compare, removal_patch, with_spec_hash
from provisioning.rendering import render_stack
from tests.rendering.specs import MANAGED_CACHE, PROVIDER_CACHE, S3, SWIFT, VERSIONS, build_spec

CONSOLE, OTHER = "harbor-console", "kubectl-edit"
MATRIX = list(
    itertools.product(VERSIONS, (PROVIDER_CACHE, MANAGED_CACHE), (S3, SWIFT), (True, False), (True, False))
)


@cache
def definitions() -> dict[str, Any]:
    root = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    newest = max((d for d in root.iterdir() if d.name.endswith("-local")), key=lambda d: _version(d.name))
    return dict(json.loads((newest / "_definitions.json").read_text())["$defs"])


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.removeprefix("v").split("-")[0].split("."))


def resolve(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    while schema is not None and "$ref" in schema:
        schema = definitions()[schema["$ref"].rsplit("/", 1)[-1]]
    if schema is not None and "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve(schema["allOf"][0])
    return schema


def kind_schema(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of ``obj``'s kind; None for a custom resource (cert-manager's Certificate): every list atomic."""
    return _kinds().get((obj["apiVersion"], obj["kind"]))


@cache
def _kinds() -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for definition in definitions().values():
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            found[(api_version, gvk["kind"])] = definition
    return found


def key_of(item: dict[str, Any], keys: list[str], item_schema: dict[str, Any] | None) -> dict[str, Any]:
    properties = (item_schema or {}).get("properties", {})
    return {key: item.get(key, (resolve(properties.get(key)) or {}).get("default", "TCP")) for key in keys}


def k_step(key: dict[str, Any]) -> str:
    return "k:" + json.dumps(key, separators=(",", ":"), sort_keys=True)


def fields_of(value: Any, schema: dict[str, Any] | None) -> dict[str, Any]:
    """The ``fieldsV1`` node an apply of ``value`` records, as structured-merge-diff does from the schema."""
    schema = resolve(schema)
    if schema is None:
        return {}
    if isinstance(value, dict):
        if schema.get("x-kubernetes-map-type") == "atomic" or not value:
            return {}
        properties = schema.get("properties")
        children = {}
        for key, child in value.items():
            if child is None:
                continue
            sub = properties.get(key) if properties is not None else schema.get("additionalProperties")
            children[f"f:{key}"] = fields_of(child, sub)
        return children
    if isinstance(value, list):
        list_type = schema.get("x-kubernetes-list-type", "atomic")
        items = resolve(schema.get("items"))
        if list_type == "map":
            keys = schema["x-kubernetes-list-map-keys"]
            return {k_step(key_of(item, keys, items)): {".": {}, **fields_of(item, items)} for item in value}
        if list_type == "set":
            return {f"v:{json.dumps(item)}": {} for item in value}
    return {}


def as_applied(desired: dict[str, Any]) -> dict[str, Any]:
    """``desired`` as served after the console's apply: its ``managedFields`` built from the schema."""
    live = copy.deepcopy(desired)
    schema = kind_schema(desired)
    fields = fields_of({k: v for k, v in desired.items() if k not in ("apiVersion", "kind")}, schema)
    for untracked in ("f:name", "f:namespace"):
        fields.get("f:metadata", {}).pop(untracked, None)
    live["metadata"].update(uid="u-1", resourceVersion="100", generation=1)
    live["metadata"]["managedFields"] = [
        {
            "manager": CONSOLE,
            "operation": "Apply",
            "apiVersion": desired["apiVersion"],
            "fieldsType": "FieldsV1",
            "fieldsV1": fields,
        }
    ]
    return live


def keyed_lists(
    value: Any, schema: dict[str, Any] | None, steps: tuple[str, ...] = (), pointer: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[str, ...], tuple[Any, ...], list[str], dict[str, Any] | None]]:
    """Every keyed list in ``value``: its fieldsV1 steps, its JSON pointer, its keys and its item schema."""
    schema = resolve(schema)
    if schema is None:
        return
    if isinstance(value, dict) and schema.get("x-kubernetes-map-type") != "atomic":
        properties = schema.get("properties")
        for key, child in value.items():
            sub = properties.get(key) if properties is not None else schema.get("additionalProperties")
            yield from keyed_lists(child, sub, (*steps, f"f:{key}"), (*pointer, key))
    elif isinstance(value, list) and schema.get("x-kubernetes-list-type") == "map":
        keys, items = schema["x-kubernetes-list-map-keys"], resolve(schema.get("items"))
        yield steps, pointer, keys, items
        for index, item in enumerate(value):
            yield from keyed_lists(
                item, items, (*steps, k_step(key_of(item, keys, items))), (*pointer, index)
            )


def nested(steps: tuple[str, ...], leaf: dict[str, Any]) -> dict[str, Any]:
    node = leaf
    for step in reversed(steps):
        node = {step: node}
    return node


def foreign_entry(item: dict[str, Any], keys: list[str], n: int) -> dict[str, Any]:
    """A copy of ``item`` under new key values: an entry the console never listed."""
    extra = copy.deepcopy(item)
    for key in keys:
        value = item.get(key)
        if key == "protocol":
            continue
        extra[key] = value + 10000 + n if isinstance(value, int) else f"{value}-added-{n}"
    return extra


def stacks() -> Iterator[tuple[str, dict[str, Any]]]:
    for version, cache_spec, storage, trivy, ha in MATRIX:
        spec = build_spec(
            harbor_version=version, cache=cache_spec, storage=storage, trivy_enabled=trivy, ha=ha
        )
        label = f"{version}-{cache_spec.mode}-{storage.kind}-trivy{trivy}-ha{ha}"
        for obj in render_stack(spec):
            yield label, with_spec_hash(obj)[0]


@pytest.mark.parametrize(("version", "cache_spec", "storage", "trivy", "ha"), MATRIX)
def test_an_applied_stack_is_never_drift_and_foreign_entries_are_reported_never_reapplied(
    version, cache_spec, storage, trivy, ha
):
    spec = build_spec(harbor_version=version, cache=cache_spec, storage=storage, trivy_enabled=trivy, ha=ha)
    lists_seen = 0
    for obj in render_stack(spec):
        desired = with_spec_hash(obj)[0]
        live = as_applied(desired)
        what = f"{desired['kind']} {desired['metadata']['name']}"
        clean = compare(desired, live, CONSOLE)
        assert (clean.drift, clean.foreign) == ((), ()), f"{what} just applied: {clean}"

        edited = copy.deepcopy(live)
        added = []
        schema = kind_schema(desired)
        for n, (steps, pointer, keys, items) in enumerate(keyed_lists(desired, schema)):
            target: Any = edited
            for part in pointer:
                target = target[part]
            if not target:
                continue
            extra = foreign_entry(target[0], keys, n)
            target.append(extra)
            entry = nested(steps, {k_step(key_of(extra, keys, items)): {".": {}, **fields_of(extra, items)}})
            edited["metadata"]["managedFields"].append(
                {"manager": OTHER, "operation": "Update", "fieldsType": "FieldsV1", "fieldsV1": entry}
            )
            added.append(extra)
        if not added:
            continue
        lists_seen += len(added)

        comparison = compare(desired, edited, CONSOLE)

        assert comparison.to_apply == [], f"{what}: an entry another manager added must not be re-applied"
        assert len(comparison.foreign) == len(added), f"{what}: {comparison.foreign}"
        assert all(f.managers == (OTHER,) and f.repair == REPAIR_UPDATE for f in comparison.foreign)
        repaired = jsonpatch.apply_patch(edited, removal_patch(edited, comparison.foreign))
        repaired["metadata"]["managedFields"] = live["metadata"]["managedFields"]
        assert repaired == live, f"{what}: the removal patch must remove exactly the foreign entries"
    assert lists_seen > 0
