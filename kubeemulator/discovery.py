"""Discovery documents (``/version``, ``/api``, ``/apis``...) built from the kinds served now.

Enough for ``kubernetes.dynamic.DynamicClient`` and ``kubectl api-resources``. A custom kind is listed only while
its CustomResourceDefinition exists: without cert-manager's CRDs, ``/apis`` has no ``cert-manager.io`` group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .kinds import Kind, group_versions, kinds_in

GIT_VERSION = "v1.33.0-kubeemulator"
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]
_VERSION = re.compile(r"^v(\d+)\.(\d+)\.(\d+)")


def version_info(git_version: str = GIT_VERSION) -> dict[str, Any]:
    """``/version``: ``major`` and ``minor`` read from ``git_version`` (``v1.33.0-kubeemulator``)."""
    match = _VERSION.match(git_version)
    if match is None:
        raise ValueError(f"a Kubernetes version looks like v1.33.0, got {git_version!r}")
    major, minor, _ = match.groups()
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def api_versions(server_address: str, served: Sequence[Kind]) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": group_versions(served).get("", []),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": listed, "preferredVersion": listed[0]}


def api_group_list(served: Sequence[Kind]) -> dict[str, Any]:
    groups = [_group(name, versions) for name, versions in group_versions(served).items() if name]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str, served: Sequence[Kind]) -> dict[str, Any] | None:
    versions = group_versions(served).get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, versions)}


def resource_list(group: str, version: str, served: Sequence[Kind]) -> dict[str, Any] | None:
    kinds = kinds_in(group, version, served)
    if not kinds:
        return None
    resources: list[dict[str, Any]] = []
    for kind in kinds:
        resource: dict[str, Any] = {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": VERBS,
        }
        if kind.short_names:
            resource["shortNames"] = list(kind.short_names)
        resources.append(resource)
        if kind.status:
            resources.append(
                {
                    "name": f"{kind.plural}/status",
                    "singularName": "",
                    "namespaced": kind.namespaced,
                    "kind": kind.kind,
                    "verbs": STATUS_VERBS,
                }
            )
    group_version = f"{group}/{version}" if group else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
