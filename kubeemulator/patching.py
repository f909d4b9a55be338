"""Patch documents: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge patch merges the lists that have a ``patchMergeKey`` in the kind's ``Schema`` item by item
(``containers`` by ``name``, container ``ports`` by ``containerPort``, Service ``ports`` by ``port``...), merges
primitive sets (``finalizers``), and replaces every other list whole. It honours ``$patch: replace|delete|merge``,
``$retainKeys``, ``$setElementOrder/<list>`` and ``$deleteFromPrimitiveList/<list>``. Custom resources do not
accept it (415), as on a real API server.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .schema import Schema, child, item
from .values import deep_copy

_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVES = "$deleteFromPrimitiveList/"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _without_directives(patch: Any) -> Any:
    if isinstance(patch, dict):
        return {
            k: _without_directives(v) for k, v in patch.items() if not k.startswith("$") and v is not None
        }
    if isinstance(patch, list):
        return [
            _without_directives(each) for each in patch if not (isinstance(each, dict) and "$patch" in each)
        ]
    return patch


def strategic_merge_patch(target: Any, patch: Any, schema: Schema, type_path: str = "") -> Any:
    """Apply a strategic merge patch to ``target`` (a new value)."""
    if not isinstance(patch, dict):
        return deep_copy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return _without_directives(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        path = child(type_path, key)
        if isinstance(value, list):
            result[key] = _patch_list(result.get(key), value, schema, path)
        elif isinstance(value, dict) and value.get("$patch") == "delete":
            result.pop(key, None)
        else:
            result[key] = strategic_merge_patch(result.get(key), value, schema, path)
    for key, value in patch.items():
        if key.startswith(_DELETE_PRIMITIVES) and isinstance(
            result.get(key[len(_DELETE_PRIMITIVES) :]), list
        ):
            name = key[len(_DELETE_PRIMITIVES) :]
            result[name] = [each for each in result[name] if each not in (value or [])]
    for key, value in patch.items():
        if key.startswith(_ORDER) and isinstance(value, list):
            name = key[len(_ORDER) :]
            if isinstance(result.get(name), list):
                result[name] = _ordered(result[name], value, schema.merge_keys.get(child(type_path, name)))
    retained = patch.get("$retainKeys")
    if isinstance(retained, list):
        result = {k: v for k, v in result.items() if k in retained}
    return result


def _patch_list(live: Any, patch: list[Any], schema: Schema, type_path: str) -> list[Any]:
    key = schema.merge_keys.get(type_path)
    current = list(live) if isinstance(live, list) else []
    if key is None:
        return list(_without_directives(patch))
    if key == "":
        return current + [each for each in patch if each not in current]
    if any(isinstance(each, dict) and each.get("$patch") == "replace" for each in patch):
        current = []
    for entry in patch:
        if not isinstance(entry, dict) or entry.get("$patch") == "replace":
            continue
        index = next(
            (
                i
                for i, each in enumerate(current)
                if isinstance(each, dict) and each.get(key) == entry.get(key)
            ),
            None,
        )
        if entry.get("$patch") == "delete":
            if index is not None:
                del current[index]
        elif index is None:
            current.append(_without_directives(entry))
        else:
            current[index] = strategic_merge_patch(current[index], entry, schema, item(type_path))
    return current


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def position(each: Any) -> int:
        value = each.get(key) if key and isinstance(each, dict) else each
        marker = {key: value} if key else value
        return order.index(marker) if marker in order else len(order)

    return sorted(items, key=position)


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(400, f"invalid JSON pointer {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, *, insert: bool) -> int:
    if insert and token == "-":
        return len(container)
    if not token.isdigit():
        raise ApiError(422, f"invalid list index {token!r} in JSON patch")
    index = int(token)
    if index > len(container) or (not insert and index == len(container)):
        raise ApiError(422, f"list index {index} out of range in JSON patch")
    return index


def _parent(document: Any, tokens: list[str]) -> Any:
    node = document
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, insert=False)]
        else:
            raise ApiError(422, f"path /{'/'.join(tokens)} does not exist in the object")
    return node


def _get(document: Any, tokens: list[str]) -> Any:
    if not tokens:
        return document
    parent = _parent(document, tokens)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, insert=False)]
    raise ApiError(422, f"path /{'/'.join(tokens)} does not exist in the object")


def _remove(document: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise ApiError(422, "cannot remove the whole document")
    parent = _parent(document, tokens)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_index(parent, last, insert=False))
    raise ApiError(422, f"path /{'/'.join(tokens)} does not exist in the object")


def _add(document: Any, tokens: list[str], value: Any, *, replace: bool = False) -> Any:
    if not tokens:
        return value
    parent = _parent(document, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if replace and last not in parent:
            raise ApiError(422, f"path /{'/'.join(tokens)} does not exist in the object")
        parent[last] = value
    elif isinstance(parent, list):
        if replace:
            parent[_index(parent, last, insert=False)] = value
        else:
            parent.insert(_index(parent, last, insert=True), value)
    else:
        raise ApiError(422, f"path /{'/'.join(tokens)} does not exist in the object")
    return document


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 on a copy of ``target``: add, remove, replace, move, copy and test."""
    if not isinstance(operations, list):
        raise ApiError(400, "a JSON patch must be a list of operations")
    document = deep_copy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise ApiError(400, f"invalid JSON patch operation: {operation!r}")
        op, tokens = operation["op"], _pointer(str(operation["path"]))
        if op in ("add", "replace", "test") and "value" not in operation:
            raise ApiError(400, f"JSON patch operation {op!r} needs a value")
        if op == "add":
            document = _add(document, tokens, deep_copy(operation["value"]))
        elif op == "replace":
            document = _add(document, tokens, deep_copy(operation["value"]), replace=True)
        elif op == "remove":
            _remove(document, tokens)
        elif op in ("move", "copy"):
            source = _pointer(str(operation.get("from", "")))
            value = _remove(document, source) if op == "move" else deep_copy(_get(document, source))
            document = _add(document, tokens, value)
        elif op == "test":
            if _get(document, tokens) != operation["value"]:
                raise ApiError(422, f"JSON patch test failed at {operation['path']}")
        else:
            raise ApiError(400, f"unknown JSON patch operation {op!r}")
    return document
