"""Two console installations, each with its own database, share one cluster: neither touches the other's objects.

Console A is the test database; console B is a second database on the same server (``tests/settings.py``) with
another installation id. The process becomes console B by pointing its default connection at B's database (what
a second deployment of the console is), so both consoles number their rows from 1: their registries have equal
ids, and only the installation label tells their objects apart.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.apps import apps
from django.db import connections
from kubernetes import client

from provisioning.choices import Phase, Via
from provisioning.models import Installation, Registry, installation_id
from provisioning.models import installation as installation_module
from provisioning.models.plans import seed_connection_limits
from provisioning.reconcile import reconcile
from provisioning.rendering.labels import INSTALLATION_LABEL, MANAGED_BY_LABEL, MANAGER, REGISTRY_ID_LABEL
from provisioning.services import registries
from tests import factories
from tests.conftest import SEED_MIGRATIONS
from tests.engine.helpers import someone_else

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True, databases=["default", "second"])

CONSOLE_B = f"t{factories.RUN}"
"""B's installation id: its tenants' database names start with ``hc_t<RUN>_``, which the test cleanup drops."""


@contextmanager
def console_b() -> Iterator[None]:
    """Run as console B: every connection of the process opens B's database until the block ends."""
    default = connections["default"]
    original, name = default.settings_dict["NAME"], connections["second"].settings_dict["NAME"]
    default.close()
    default.settings_dict["NAME"] = name
    try:
        yield
    finally:
        default.close()
        default.settings_dict["NAME"] = original


@pytest.fixture
def second_console() -> None:
    """Console B's database seeded like a fresh installation, with its own installation id."""
    with console_b():
        for migration in SEED_MIGRATIONS:
            importlib.import_module(migration).forwards(apps, None)
        seed_connection_limits()
        Installation.objects.update_or_create(pk=1, defaults={"uid": CONSOLE_B})
        installation_module._cache.pop(connections["default"].settings_dict["NAME"], None)
        assert installation_id() == CONSOLE_B


def versions(kube_emulator, namespace: str) -> dict[str, str]:
    """Every object in ``namespace`` (the namespace included), by kind and name, with its resourceVersion."""
    found = {
        f"{obj['kind']}/{obj['metadata']['name']}": obj["metadata"]["resourceVersion"]
        for obj in kube_emulator.objects(namespace=namespace)
        if obj["kind"] not in ("Event", "Pod", "Lease")
    }
    for ns in kube_emulator.objects("Namespace"):
        if ns["metadata"]["name"] == namespace:
            found[f"Namespace/{namespace}"] = ns["metadata"]["resourceVersion"]
    return found


def make_console_registry(make_emulated_cluster) -> tuple[int, str]:
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    return registry.pk, registry.namespace


def b_configmap(namespace: str, registry_id: int) -> dict[str, Any]:
    """An object labelled as console B's for ``registry_id``, inside ``namespace``."""
    labels = {MANAGED_BY_LABEL: MANAGER, INSTALLATION_LABEL: CONSOLE_B, REGISTRY_ID_LABEL: str(registry_id)}
    return {
        "metadata": {"name": "console-b-note", "namespace": namespace, "labels": labels},
        "data": {"a": "b"},
    }


def test_two_installations_with_equal_registry_ids_reconcile_and_prune_only_their_own(
    second_console, make_emulated_cluster, kube_emulator
):
    a_id, a_namespace = make_console_registry(make_emulated_cluster)
    with console_b():
        b_id, b_namespace = make_console_registry(make_emulated_cluster)
    assert a_id == b_id and a_namespace != b_namespace
    core: Any = client.CoreV1Api(someone_else(kube_emulator))
    core.create_namespaced_config_map(a_namespace, b_configmap(a_namespace, a_id))
    a_before, b_before = versions(kube_emulator, a_namespace), versions(kube_emulator, b_namespace)

    # each reconciles again: nothing of the other's is changed, B's object in A's namespace is not pruned by A
    assert reconcile(a_id).phase == Phase.READY
    with console_b():
        assert reconcile(b_id).phase == Phase.READY
    assert versions(kube_emulator, a_namespace) == a_before
    assert versions(kube_emulator, b_namespace) == b_before

    # A deletes its registry: its namespace goes, B's stack stays as it was
    registries.delete(Registry.objects.get(pk=a_id), actor=None, via=Via.SYSTEM)
    assert reconcile(a_id).phase == Phase.DELETED
    assert not [ns for ns in kube_emulator.objects("Namespace") if ns["metadata"]["name"] == a_namespace]
    assert versions(kube_emulator, b_namespace) == b_before
    with console_b():
        assert reconcile(b_id).phase == Phase.READY
    assert versions(kube_emulator, b_namespace) == b_before
