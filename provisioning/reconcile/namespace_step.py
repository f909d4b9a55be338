"""The namespace step of a run: whose the registry's namespace is before anything is written into it.

The run's LIST by ownership label finds the namespace when it is this installation's for this registry. When it
does not, one GET says whether a namespace of that name exists anyway:

* none: the run creates it;
* Terminating (a registry purged and created again, or deleted a moment ago): the run waits for it to go
  (``NamespaceTerminating``, transient, retried) instead of failing on every object it cannot create;
* labelled by an older console for this registry, without an installation label: it is adopted (the apply adds
  the installation label) and the objects that console left there and this one no longer renders are pruned;
* anything else (another installation's, another registry's, someone's own): ``NamespaceTaken``, never touched.

A converged stack costs nothing here: its namespace is in the LIST.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from provisioning.kube import KubeGateway, object_key
from provisioning.kube.resources import ObjectKey
from provisioning.models import Registry
from provisioning.reconcile.errors import NamespaceTaken, NamespaceTerminating
from provisioning.rendering import RENDERED_KINDS, legacy_ownership_selector
from provisioning.rendering.labels import INSTALLATION_LABEL, MANAGED_BY_LABEL, MANAGER, REGISTRY_ID_LABEL


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _terminating(obj: dict[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def is_legacy_owned(obj: dict[str, Any], registry_id: int) -> bool:
    """Labelled by a console for ``registry_id`` before installation labels existed."""
    labels = _labels(obj)
    return (
        labels.get(MANAGED_BY_LABEL) == MANAGER
        and labels.get(REGISTRY_ID_LABEL) == str(registry_id)
        and INSTALLATION_LABEL not in labels
    )


def _owner(labels: dict[str, str]) -> str:
    if labels.get(MANAGED_BY_LABEL) != MANAGER:
        return "it was not created by the console"
    installation = labels.get(INSTALLATION_LABEL)
    registry = labels.get(REGISTRY_ID_LABEL, "?")
    if installation:
        return f"it belongs to registry {registry} of console installation {installation}"
    return f"it belongs to registry {registry} of an older console"


def check_namespace(
    gateway: KubeGateway, registry: Registry, live: dict[ObjectKey, dict[str, Any]], installation: str
) -> bool:
    """Raise when the run must not write into the registry's namespace; True when it is a legacy one to adopt."""
    name = registry.namespace
    owned = live.get(("v1", "Namespace", "", name))
    if owned is not None:
        if _terminating(owned):
            raise NamespaceTerminating(name)
        return False
    found = gateway.get("v1", "Namespace", name)
    if found is None:
        return False
    if _terminating(found):
        raise NamespaceTerminating(name)
    if is_legacy_owned(found, registry.pk):
        return True
    raise NamespaceTaken(
        f"Namespace {name} already exists and {_owner(_labels(found))}, not to registry {registry.pk} of this "
        f"installation ({installation}): the console writes nothing into it. Delete or rename that namespace, "
        "or move the registry to another cluster"
    )


def _unlabelled_policy_of(obj: dict[str, Any], instance: str, field_manager: str) -> bool:
    """A NetworkPolicy an older console wrote without labels: named for the instance, written by it alone."""
    metadata = obj.get("metadata") or {}
    managers = {entry.get("manager") for entry in metadata.get("managedFields") or []}
    return (
        MANAGED_BY_LABEL not in _labels(obj)
        and str(metadata.get("name", "")).startswith(f"{instance}-")
        and managers == {field_manager}
    )


def legacy_leftovers(
    gateway: KubeGateway, registry: Registry, wanted: Iterable[ObjectKey]
) -> list[dict[str, Any]]:
    """What an older console left in the adopted namespace for this registry that is no longer rendered."""
    selector = legacy_ownership_selector(registry.pk)
    keep = set(wanted)
    found: list[dict[str, Any]] = []
    for api_version, kind in RENDERED_KINDS:
        if kind == "Namespace":
            continue
        found += gateway.list(api_version, kind, namespace=registry.namespace, label_selector=selector)
    found += [
        policy
        for policy in gateway.list("networking.k8s.io/v1", "NetworkPolicy", namespace=registry.namespace)
        if _unlabelled_policy_of(policy, registry.name, gateway.field_manager)
    ]
    return [obj for obj in found if object_key(obj) not in keep and not _terminating(obj)]
