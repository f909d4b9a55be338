"""The kubeconfigs the console accepts: inline credentials only, so a kubeconfig can never run a program or read a
local file on the worker (whose environment holds the field encryption keys).

Accepted: a cluster's ``server``, ``certificate-authority-data`` and ``tls-server-name``; a user's ``token`` or
``client-certificate-data`` + ``client-key-data``. Refused, with the entry named: ``exec`` and ``auth-provider``
(they run programs), ``tokenFile``, ``client-certificate``, ``client-key`` and ``certificate-authority`` (they read
files), ``proxy-url`` (it sends the credentials through a third party), impersonation (``as``…), basic auth, and
``insecure-skip-tls-verify: true`` — without server verification anyone on the path can take the token, and the CA
data can always be given instead. Any key not in these lists is refused too, so a client feature added later cannot
slip through. The same check runs when a cluster is saved and every time a client is built from stored settings.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import yaml

from provisioning.kube.errors import KubeConfigError

TOP_LEVEL_KEYS = {
    "apiVersion",
    "kind",
    "clusters",
    "users",
    "contexts",
    "current-context",
    "preferences",
    "extensions",
}
CLUSTER_KEYS = {
    "server",
    "certificate-authority-data",
    "tls-server-name",
    "insecure-skip-tls-verify",
    "extensions",
}
USER_KEYS = {"token", "client-certificate-data", "client-key-data", "extensions"}
CONTEXT_KEYS = {"cluster", "user", "namespace", "extensions"}
BASE64_KEYS = {"certificate-authority-data", "client-certificate-data", "client-key-data"}
WHY_REFUSED = {
    "exec": "it runs a program on the console's worker",
    "auth-provider": "it runs a provider plugin on the console's worker",
    "tokenFile": "it reads a file on the console's worker",
    "client-certificate": "it reads a file on the console's worker; give client-certificate-data",
    "client-key": "it reads a file on the console's worker; give client-key-data",
    "certificate-authority": "it reads a file on the console's worker; give certificate-authority-data",
    "proxy-url": "it sends the credentials through a proxy",
    "username": "basic authentication is not accepted; give a token or a client certificate",
    "password": "basic authentication is not accepted; give a token or a client certificate",
}
SECTIONS = (
    ("clusters", "cluster", CLUSTER_KEYS),
    ("users", "user", USER_KEYS),
    ("contexts", "context", CONTEXT_KEYS),
)


@dataclass(frozen=True)
class KubeconfigSummary:
    """What a checked kubeconfig names, and which context, cluster and user the client will use."""

    context: str
    cluster: str
    user: str
    server: str
    contexts: list[str]
    clusters: list[str]
    users: list[str]


def parse_kubeconfig(text: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise KubeConfigError(f"The kubeconfig is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise KubeConfigError("The kubeconfig is not a YAML mapping.")
    return document


def check_kubeconfig(text: str, context: str = "") -> KubeconfigSummary:
    """Check every entry of the kubeconfig and the context in use (``context`` or ``current-context``).

    Raises ``KubeConfigError`` whose message names the entry and the key at fault and says what to give instead.
    """
    return check_document(parse_kubeconfig(text), context)


def check_document(document: dict[str, Any], context: str = "") -> KubeconfigSummary:
    unknown = sorted(set(document) - TOP_LEVEL_KEYS)
    if unknown:
        raise KubeConfigError(f"The kubeconfig has {_keys(unknown)}, which the console does not accept.")
    entries = {section: _entries(document, section, item) for section, item, _ in SECTIONS}
    for section, item, allowed in SECTIONS:
        for name, body in entries[section].items():
            _check_entry(item, name, body, allowed)
    chosen = context or str(document.get("current-context") or "")
    if not chosen:
        raise KubeConfigError("The kubeconfig names no current-context: set one of its contexts as current.")
    if chosen not in entries["contexts"]:
        raise KubeConfigError(
            f"The context {chosen!r} is not among the contexts ({', '.join(entries['contexts']) or 'none'})."
        )
    used = entries["contexts"][chosen]
    cluster, user = str(used.get("cluster") or ""), str(used.get("user") or "")
    for section, name in (("clusters", cluster), ("users", user)):
        if name not in entries[section]:
            raise KubeConfigError(
                f"The context {chosen!r} uses the {section[:-1]} {name!r}, which the kubeconfig does not define."
            )
    server = str(entries["clusters"][cluster].get("server") or "")
    if not server:
        raise KubeConfigError(f"The cluster {cluster!r} of the kubeconfig has no server URL.")
    return KubeconfigSummary(
        context=chosen,
        cluster=cluster,
        user=user,
        server=server,
        contexts=list(entries["contexts"]),
        clusters=list(entries["clusters"]),
        users=list(entries["users"]),
    )


def _entries(document: dict[str, Any], section: str, item: str) -> dict[str, dict[str, Any]]:
    """``{name: body}`` of one section (``clusters``: ``[{name, cluster: {...}}]``)."""
    raw = document.get(section) or []
    if not isinstance(raw, list):
        raise KubeConfigError(f"The kubeconfig's {section!r} must be a list of named entries.")
    entries: dict[str, dict[str, Any]] = {}
    for position, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise KubeConfigError(f"The kubeconfig's {section} entry {position} has no name.")
        body = entry.get(item) or {}
        if not isinstance(body, dict):
            raise KubeConfigError(f"The kubeconfig's {item} {entry['name']!r} is not a mapping.")
        extra = sorted(set(entry) - {"name", item})
        if extra:
            raise KubeConfigError(
                f"The kubeconfig's {item} {entry['name']!r} has {_keys(extra)} beside {item!r}."
            )
        entries[str(entry["name"])] = body
    return entries


def _check_entry(item: str, name: str, body: dict[str, Any], allowed: set[str]) -> None:
    for key in sorted(body):
        if key not in allowed:
            why = WHY_REFUSED.get(key, "only inline credentials are accepted")
            raise KubeConfigError(f"The kubeconfig's {item} {name!r}: {key!r} is not accepted ({why}).")
    if body.get("insecure-skip-tls-verify") not in (None, False):
        raise KubeConfigError(
            f"The kubeconfig's {item} {name!r}: 'insecure-skip-tls-verify' is not accepted (without verifying the "
            "server anyone on the path can take the credentials); give certificate-authority-data instead."
        )
    for key in sorted(BASE64_KEYS & set(body)):
        try:
            base64.b64decode(str(body[key]), validate=True)
        except (binascii.Error, ValueError):
            raise KubeConfigError(f"The kubeconfig's {item} {name!r}: {key!r} is not base64.") from None


def _keys(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)
