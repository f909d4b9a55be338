"""One driver per upgrade: two drivers advancing the same upgrade at once (the task twice, a wave and a direct
resume) never both act on a step. Real threads, each with its own database connection, on the emulator."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from provisioning.choices import Phase, Via
from provisioning.models import AuditEvent, StepStatus, Upgrade, UpgradeStatus, Wave
from provisioning.reconcile import Outcome, reconcile
from provisioning.services.errors import ActionRefused
from provisioning.upgrades import operation, waves
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

FROM, TO = "2.14.4", "2.15.2"


@pytest.fixture
def registry(make_emulated_cluster):
    cluster = make_emulated_cluster(backup_marker="PITR on the shared PostgreSQL, 7 days")
    registry = factories.registry(cluster=cluster, harbor_version=FROM, trivy_enabled=False)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


def job_writes(emulator: Any) -> dict[str, int]:
    verbs = emulator.stats()["by_kind"].get("Job", {})
    return {verb: n for verb, n in verbs.items() if verb in ("create", "update", "patch", "apply")}


def test_two_drivers_at_once_act_on_each_step_once(registry, kube_emulator):
    """The first driver is held inside its first reconcile while the second one advances the same upgrade: the
    second must leave it alone (the migration Job is written once, the upgrade finishes and is audited once)."""
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    kube_emulator.reset_stats()
    first_inside, second_done = threading.Event(), threading.Event()
    results: dict[str, Upgrade | None] = {}
    errors: list[BaseException] = []
    reconciles: dict[str, int] = {"first": 0, "second": 0}

    def held(registry_id: int) -> Outcome:
        reconciles["first"] += 1
        if reconciles["first"] == 1:
            first_inside.set()
            second_done.wait(timeout=60)
        return reconcile(registry_id)

    def counted(registry_id: int) -> Outcome:
        reconciles["second"] += 1
        return reconcile(registry_id)

    def driver(
        name: str, reconcile_fn: Any, before: threading.Event | None, after: threading.Event | None
    ) -> None:
        try:
            if before is not None:
                assert before.wait(timeout=60), "the first driver never reached its reconcile"
            current = operation.advance(upgrade.pk, reconcile_fn=reconcile_fn)
            for _ in range(30):
                if current is None or not current.is_open:
                    break
                current = operation.advance(upgrade.pk, reconcile_fn=reconcile_fn)
            results[name] = current
        except BaseException as error:
            errors.append(error)
        finally:
            if after is not None:
                after.set()
            connection.close()

    threads = [
        threading.Thread(target=driver, args=("first", held, None, None)),
        threading.Thread(target=driver, args=("second", counted, first_inside, second_done)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    done = Upgrade.objects.get(pk=upgrade.pk)
    assert done.status == UpgradeStatus.SUCCEEDED, done.reason
    assert [e["status"] for e in done.steps] == [StepStatus.DONE] * len(done.steps)
    assert reconciles["second"] == 0  # the second driver found the upgrade driven and did nothing
    assert sum(job_writes(kube_emulator).values()) == 1, job_writes(kube_emulator)
    finished = AuditEvent.objects.filter(action="upgrade-finished", registry=registry)
    assert finished.count() == 1
    assert not AuditEvent.objects.filter(action="upgrade-halted", registry=registry).exists()


def test_two_drivers_of_one_wave_at_once_start_its_batch_once(make_emulated_cluster):
    """Two ``drive_wave`` chains (a start and a resume each send one): while the first is inside its batch, the
    second leaves the wave alone; each registry gets one upgrade, each finished once."""
    cluster = make_emulated_cluster(backup_marker="PITR on the shared PostgreSQL, 7 days")
    fleet = [factories.registry(cluster=cluster, harbor_version=FROM, trivy_enabled=False) for _ in range(2)]
    for member in fleet:
        assert reconcile(member.pk).phase == Phase.READY
    wave = waves.plan_wave(
        Wave(name="two drivers", target_version=TO, from_version=FROM, batch_size=2, pause_seconds=0),
        actor="test",
        via=Via.CLI,
    )
    waves.start_wave(wave, actor="test", via=Via.CLI, drive=False)
    first_inside, second_done = threading.Event(), threading.Event()
    reconciles: dict[str, int] = {"first": 0, "second": 0}
    errors: list[BaseException] = []

    def held(registry_id: int) -> Outcome:
        reconciles["first"] += 1
        if reconciles["first"] == 1:
            first_inside.set()
            second_done.wait(timeout=60)
        return reconcile(registry_id)

    def counted(registry_id: int) -> Outcome:
        reconciles["second"] += 1
        return reconcile(registry_id)

    def driver(reconcile_fn: Any, before: threading.Event | None, after: threading.Event | None) -> None:
        try:
            if before is not None:
                assert before.wait(timeout=60), "the first driver never reached its reconcile"
            waves.advance_wave(wave.pk, reconcile_fn=reconcile_fn)
        except BaseException as error:
            errors.append(error)
        finally:
            if after is not None:
                after.set()
            connection.close()

    threads = [
        threading.Thread(target=driver, args=(held, None, None)),
        threading.Thread(target=driver, args=(counted, first_inside, second_done)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    assert reconciles["second"] == 0
    upgrades = Upgrade.objects.filter(wave=wave)
    assert sorted(upgrades.values_list("registry_id", flat=True)) == sorted(r.pk for r in fleet)
    assert set(upgrades.values_list("status", flat=True)) == {UpgradeStatus.SUCCEEDED}
    for member in fleet:
        assert AuditEvent.objects.filter(action="upgrade-finished", registry=member).count() == 1


def test_a_rollback_while_a_driver_acts_is_refused_and_changes_nothing(registry, kube_emulator):
    """A driver is inside the migration step (the Job not written yet): a rollback then would race it (the driver
    goes on to write the Job and finish the upgrade it rolled back). It is refused, saying to try again."""
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    inside, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def held(registry_id: int) -> Outcome:
        inside.set()
        release.wait(timeout=60)
        return reconcile(registry_id)

    def driver() -> None:
        try:
            operation.advance(upgrade.pk, reconcile_fn=held)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=driver)
    thread.start()
    try:
        assert inside.wait(timeout=60)
        with pytest.raises(ActionRefused) as refused:
            operation.rollback(upgrade, actor=None, via=Via.SYSTEM)
        assert refused.value.code == "being_driven"
        assert "try again" in refused.value.message
    finally:
        release.set()
        thread.join(timeout=120)
    assert not errors, errors
    current = Upgrade.objects.get(pk=upgrade.pk)
    assert current.status == UpgradeStatus.SUCCEEDED and current.migration_job  # the driver went on, unharmed
    assert not AuditEvent.objects.filter(action="upgrade-rollback", registry=registry).exists()

    # With no driver on it, the rollback is judged on its own terms (here: the migration has run).
    with pytest.raises(ActionRefused) as refused:
        operation.rollback(current, actor=None, via=Via.SYSTEM)
    assert refused.value.code == "migration_ran"
