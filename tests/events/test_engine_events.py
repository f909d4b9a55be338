"""The reconcile engine reports what it found: a phase change and the finished run, against the emulated cluster,
in the order of the registry's sequence."""

from __future__ import annotations

import pytest

from provisioning.choices import Phase, Via
from provisioning.models import Event
from provisioning.reconcile import reconcile
from provisioning.services import registries
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def events_of(registry):
    return [
        (e.type.removeprefix("io.harbor-console."), e.data)
        for e in Event.objects.filter(registry_id=registry.pk).order_by("sequence")
    ]


def test_a_reconcile_reports_the_phase_change_and_its_run(emulated_cluster, monkeypatch):
    monkeypatch.setattr("provisioning.services.registries.enqueue_run", lambda *args: None)
    registry = factories.registry(cluster=emulated_cluster, harbor_version="2.14.4")
    outcome = reconcile(registry.pk)
    assert outcome.phase == Phase.READY

    found = events_of(registry)
    assert [name for name, _ in found] == ["registry.created", "registry.phase_changed", "run.finished"]
    assert found[1][1] == {"from": Phase.PENDING, "to": Phase.READY, "run": outcome.run_id}
    assert found[2][1]["run"] == outcome.run_id and found[2][1]["status"] == "succeeded"

    registries.suspend(registry, actor=None, via=Via.SYSTEM)
    assert reconcile(registry.pk).phase == Phase.SUSPENDED
    assert [name for name, _ in events_of(registry)][3:] == [
        "registry.suspended",
        "registry.phase_changed",
        "run.finished",
    ]
    assert events_of(registry)[4][1]["to"] == Phase.SUSPENDED

    before = Event.objects.count()
    reconcile(registry.pk, trigger="sweep")  # nothing to change: a sweep's run is not news
    assert Event.objects.count() == before


def test_a_sweep_that_finds_a_phase_change_names_its_recorded_run(
    emulated_cluster, kube_emulator, monkeypatch
):
    monkeypatch.setattr("provisioning.services.registries.enqueue_run", lambda *args: None)
    registry = factories.registry(cluster=emulated_cluster, harbor_version="2.14.4")
    assert reconcile(registry.pk).phase == Phase.READY
    kube_emulator.break_workload(registry.namespace, f"{registry.name}-registry", reason="ImagePullBackOff")

    outcome = reconcile(registry.pk, trigger="sweep")  # a sweep's run has no row until it finds something

    assert outcome.phase == Phase.DEGRADED and outcome.run_id is not None
    name, data = events_of(registry)[-1]
    assert (name, data["to"]) == ("registry.phase_changed", Phase.DEGRADED)
    assert data["run"] == outcome.run_id  # the run row exists: a client can follow the event to it
