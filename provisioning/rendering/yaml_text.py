"""Deterministic YAML text for configuration files and manifests (libyaml when available)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

_BaseDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BaseDumper):  # type: ignore[misc]
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
    """One YAML document, keys in insertion order."""
    text: str = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
    return text


def dump_all(documents: Iterable[Any]) -> str:
    """A multi-document stream, each document starting with ``---``."""
    text: str = yaml.dump_all(
        documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000, explicit_start=True
    )
    return text
