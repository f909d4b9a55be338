"""Deterministic YAML text: PyYAML for configuration files, a small emitter for manifests.

Manifests are plain JSON-like data (dicts, lists, strings, integers, booleans, None); the emitter writes
them ten times faster than PyYAML's representer. A string is written plain only when it cannot be read
back as anything but that string, as a literal block when it spans lines, and JSON-quoted otherwise
(a JSON string is a valid YAML double-quoted scalar).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import yaml

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):
    """Safe dumper that writes multi-line strings as literal blocks, so embedded files stay readable,
    and never writes anchors or aliases (Kubernetes manifests are read by tools that reject them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: Any, value: str) -> Any:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _represent_str)


def dump(document: Any) -> str:
    """One YAML document (a configuration file), keys in insertion order.

    PyYAML's representer costs about a millisecond per file and a fleet sweep renders the same files again and
    again, so texts are kept by the document's JSON (same document, same text).
    """
    return _dump(json.dumps(document))


@lru_cache(maxsize=4096)
def _dump(document_json: str) -> str:
    document = json.loads(document_json)
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return text


_PLAIN = re.compile(r"^[A-Za-z/_][A-Za-z0-9_./-]*$")
_NOT_PLAIN_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
_BLOCK_UNSAFE = re.compile(r"[ \t]\n|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff]|[ \t]$")


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _NOT_PLAIN_WORDS:
            return value
        return json.dumps(value, ensure_ascii=not value.isprintable())
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    raise TypeError(f"cannot write {type(value).__name__} to a manifest")


def _block(text: str, indent: str) -> str | None:
    """A literal block scalar for a multi-line string, or None when one cannot hold it exactly."""
    if text.startswith((" ", "\n")) or text.endswith("\n\n") or _BLOCK_UNSAFE.search(text):
        return None
    body = text[:-1] if text.endswith("\n") else text
    header = "|" if text.endswith("\n") else "|-"
    lines = [f"{indent}{line}" if line else "" for line in body.split("\n")]
    return header + "\n" + "\n".join(lines)


def _emit(value: Any, indent: str, out: list[str]) -> None:
    """Append the lines of a mapping or sequence at ``indent``."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = _scalar(str(key))
            if isinstance(item, dict) and item:
                out.append(f"{indent}{name}:")
                _emit(item, indent + "  ", out)
            elif isinstance(item, list) and item:
                out.append(f"{indent}{name}:")
                _emit(item, indent, out)
            else:
                out.append(f"{indent}{name}: {_inline(item, indent + '  ')}")
        return
    for item in value:
        if isinstance(item, dict | list) and item:
            nested: list[str] = []
            _emit(item, indent + "  ", nested)
            nested[0] = f"{indent}- {nested[0][len(indent) + 2 :]}"
            out.extend(nested)
        else:
            out.append(f"{indent}- {_inline(item, indent + '  ')}")


def _inline(value: Any, indent: str) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    if isinstance(value, str) and "\n" in value:
        block = _block(value, indent)
        if block is not None:
            return block
    return _scalar(value)


def dump_all(documents: Iterable[Any]) -> str:
    """A multi-document stream of manifests, each document starting with ``---``."""
    out: list[str] = []
    for document in documents:
        out.append("---")
        _emit(document, "", out)
    return "\n".join(out) + "\n" if out else ""
