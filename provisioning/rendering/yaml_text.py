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


class _Emitter:
    """Writes manifests line by line; each distinct string is formatted once per stream."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.strings: dict[str, str] = {}

    def text(self, value: str) -> str:
        found = self.strings.get(value)
        if found is None:
            found = self.strings[value] = _scalar(value)
        return found

    def inline(self, value: Any, indent: str) -> str:
        kind = type(value)
        if kind is str:
            if "\n" in value:
                return _block(value, indent) or _scalar(value)
            return self.strings.get(value) or self.text(value)
        if kind is dict:
            return "{}"
        if kind is list:
            return "[]"
        return _scalar(value)

    def mapping(self, mapping: dict[str, Any], indent: str, first: str | None = None) -> None:
        out, strings, inline = self.out, self.strings, self.inline
        deeper = indent + "  "
        lead = indent if first is None else first
        for key, item in mapping.items():
            name = strings.get(key) or self.text(key)
            kind = type(item)
            if kind is dict and item:
                out.append(f"{lead}{name}:")
                self.mapping(item, deeper)
            elif kind is list and item:
                out.append(f"{lead}{name}:")
                self.sequence(item, indent)
            else:
                out.append(f"{lead}{name}: {inline(item, deeper)}")
            lead = indent

    def sequence(self, items: list[Any], indent: str, first: str | None = None) -> None:
        out = self.out
        deeper = indent + "  "
        lead = (indent if first is None else first) + "- "
        for item in items:
            kind = type(item)
            if kind is dict and item:
                self.mapping(item, deeper, lead)
            elif kind is list and item:
                self.sequence(item, deeper, lead)
            else:
                out.append(f"{lead}{self.inline(item, deeper)}")
            lead = indent + "- "


def dump_all(documents: Iterable[Any]) -> str:
    """A multi-document stream of manifests, each document starting with ``---``."""
    emitter = _Emitter()
    for document in documents:
        emitter.out.append("---")
        if document:
            emitter.mapping(document, "")
    return "\n".join(emitter.out) + "\n" if emitter.out else ""
