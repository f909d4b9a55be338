"""Another field manager's edits on the cluster, end to end: recorded once, never re-applied on every pass.

A value the console sets that someone else changed is taken back by one forced apply. A field the console does
not list, added by someone else, is not drift (no apply could remove it): it is recorded once on the object's
``ManagedResource`` ("changed by kubectl ..."), with the time it was first seen, and no pass writes because of it.
"""

from __future__ import annotations

import pytest
from kubernetes import client

from provisioning.choices import Phase
from provisioning.models import ManagedResource
from provisioning.reconcile import reconcile
from tests import factories
from tests.engine.helpers import live, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_field_added_by_another_manager_is_recorded_once_and_never_reapplied(
    make_emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    name = f"{registry.name}-portal"
    with someone_else(kube_emulator) as api:
        client.CoreV1Api(api).patch_namespaced_config_map(
            name, registry.namespace, {"data": {"extra.conf": "x"}}
        )

    kube_emulator.reset_stats()
    first = run_of(reconcile(registry.pk))

    assert kube_emulator.stats()["writes"] == 0 and first.updated == 0
    row = ManagedResource.objects.get(registry=registry, kind="ConfigMap", name=name)
    [change] = row.foreign_changes
    assert (change["path"], change["managers"], change["repair"]) == (
        "data.extra.conf",
        ["kubectl"],
        "update",
    )
    assert "Changed by kubectl at data.extra.conf (not in the console's manifest" in row.message
    assert live(kube_emulator, "ConfigMap", registry, name)["data"]["extra.conf"] == "x"

    kube_emulator.reset_stats()
    second = run_of(reconcile(registry.pk))

    assert kube_emulator.stats()["writes"] == 0 and second.updated == 0
    again = ManagedResource.objects.get(pk=row.pk)
    assert again.foreign_changes == row.foreign_changes  # recorded once: the first sighting's time stays


def test_a_value_another_manager_changed_is_taken_back_once(make_emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=make_emulated_cluster())
    assert reconcile(registry.pk).phase == Phase.READY
    name = f"{registry.name}-core"
    with someone_else(kube_emulator) as api:
        client.AppsV1Api(api).patch_namespaced_deployment(name, registry.namespace, {"spec": {"replicas": 5}})

    run = run_of(reconcile(registry.pk))

    assert run.updated == 1
    [action] = run.actions
    assert action["detail"] == "differs at spec.replicas (from kubectl)"
    assert live(kube_emulator, "Deployment", registry, name)["spec"]["replicas"] == 2
    kube_emulator.reset_stats()
    assert run_of(reconcile(registry.pk)).updated == 0
    assert kube_emulator.stats()["writes"] == 0
