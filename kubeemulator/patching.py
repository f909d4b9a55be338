"""Patch documents: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch.

Strategic merge patch is **treated as a JSON merge patch**: lists are replaced whole, never merged by key
(``containers`` by ``name``, ``ports`` by ``containerPort``...), and ``$patch`` / ``$setElementOrder`` /
``$retainKeys`` / ``$deleteFromPrimitiveList`` directives are dropped. Code that needs per-item list merging
against a real apiserver must use server-side apply or whole-object writes.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError
from .values import deep_copy


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
        return {k: _without_directives(v) for k, v in patch.items() if not k.startswith("$")}
    if isinstance(patch, list):
        return [_without_directives(item) for item in patch]
    return patch


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """A strategic merge patch applied as a plain merge patch (see the module docstring)."""
    return merge_patch(target, _without_directives(patch))


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
