"""An upgrade as an operation on the emulator: migration Job first, components in order, halts and rollbacks."""

from __future__ import annotations

from typing import Any

import pytest

from provisioning.choices import Phase, Via, WhoseMove
from provisioning.models import AuditEvent, StepStatus, Upgrade, UpgradeStatus
from provisioning.reconcile import Outcome, reconcile
from provisioning.rendering.upgrade import ROLL_ORDER
from provisioning.services.errors import ActionRefused
from provisioning.upgrades import operation
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

FROM, TO = "2.14.4", "2.15.2"


@pytest.fixture
def registry(make_emulated_cluster):
    cluster = make_emulated_cluster(backup_marker="PITR on the shared PostgreSQL, 7 days")
    registry = factories.registry(cluster=cluster, harbor_version=FROM, trivy_enabled=True)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


def versions(emulator: Any, registry: Any) -> dict[str, str]:
    """The version each workload runs on the cluster, by component."""
    return {
        obj["metadata"]["labels"]["app.kubernetes.io/component"]: obj["spec"]["template"]["spec"][
            "containers"
        ][0]["image"].rsplit(":v", 1)[1]
        for kind in ("Deployment", "StatefulSet")
        for obj in emulator.objects(kind, registry.namespace)
        if obj["metadata"]["labels"]["app.kubernetes.io/component"] in ROLL_ORDER
    }


def jobs(emulator: Any, registry: Any) -> list[dict[str, Any]]:
    return list(emulator.objects("Job", registry.namespace))


def drive(upgrade: Upgrade, reconcile_fn: Any = None, rounds: int = 30) -> Upgrade:
    kwargs = {"reconcile_fn": reconcile_fn} if reconcile_fn else {}
    for _ in range(rounds):
        current = operation.advance(upgrade.pk, **kwargs)
        assert current is not None
        if not current.is_open:
            return current
    upgrade.refresh_from_db()
    raise AssertionError(f"the upgrade is still {upgrade.status} at {upgrade.step}: {upgrade.steps}")


def test_the_schema_migrates_once_before_core_then_components_roll_in_order(registry, kube_emulator):
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    assert upgrade.status == UpgradeStatus.RUNNING, upgrade.reason
    registry.refresh_from_db()
    assert registry.harbor_version == TO

    # Any reconcile meanwhile (the sweep) keeps every component where it is: the upgrade decides.
    reconcile(registry.pk)
    assert set(versions(kube_emulator, registry).values()) == {FROM}

    seen: list[tuple[frozenset[str], int]] = []

    def watching(registry_id: int) -> Outcome:
        outcome = reconcile(registry_id)
        moved = frozenset(c for c, v in versions(kube_emulator, registry).items() if v == TO)
        seen.append((moved, len(jobs(kube_emulator, registry))))
        return outcome

    done = drive(upgrade, watching)
    assert done.status == UpgradeStatus.SUCCEEDED, done.reason
    # The first reconcile made room for the Job and nothing moved; the Job ran before core took the new version.
    assert seen[0] == (frozenset(), 0)
    first_core = next(i for i, (moved, _) in enumerate(seen) if "core" in moved)
    assert all(count == 1 for _, count in seen[1 : first_core + 1])
    order = []
    for moved, _ in seen:
        order += sorted(c for c in moved if c not in order)
    assert order == [c for c in ROLL_ORDER if c in order] and set(order) >= {"core", "portal", "registry"}
    assert [e["status"] for e in done.steps] == [StepStatus.DONE] * len(done.steps)
    assert done.migration_job.endswith("-migration-2-15-2")
    assert jobs(kube_emulator, registry) == []  # removed once the upgrade finished
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    assert registry.deployed_version == TO


def test_the_migration_job_runs_the_new_core_in_migrate_mode(registry, kube_emulator):
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    kube_emulator.ready_delay = 300  # the Job keeps running
    current = operation.advance(upgrade.pk)
    assert current is not None and current.step == "migration" and current.migration_started_at
    (job,) = jobs(kube_emulator, registry)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"].endswith(f"harbor-core:v{TO}")
    assert container["command"] == ["/harbor/harbor_core", "-mode=migrate"]
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"
    assert set(versions(kube_emulator, registry).values()) == {FROM}


def test_a_failing_migration_job_halts_the_upgrade_with_the_jobs_message(registry, kube_emulator):
    kube_emulator.break_workload(
        registry.namespace, "*-migration-*", reason="Error", message="pq: relation exists", kind="Job"
    )
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)

    halted = drive(upgrade)

    assert halted.status == UpgradeStatus.HALTED and halted.step == "migration"
    assert "The schema migration Job" in halted.reason
    assert "Job has reached the specified backoff limit. Error: pq: relation exists" in halted.reason
    assert halted.whose_move == WhoseMove.PROVIDER
    assert halted.step_entry("migration")["status"] == StepStatus.FAILED
    assert set(versions(kube_emulator, registry).values()) == {FROM}  # no component moved
    reconcile(registry.pk)  # nor does a later reconcile move one
    assert set(versions(kube_emulator, registry).values()) == {FROM}
    assert AuditEvent.objects.filter(action="upgrade-halted", registry=registry).exists()

    # The Job ran: the schema may have moved, so the images cannot go back.
    with pytest.raises(ActionRefused, match="schema migration has run"):
        operation.rollback(halted, actor=None, via=Via.SYSTEM)
    halted.refresh_from_db()
    registry.refresh_from_db()
    assert halted.status == UpgradeStatus.HALTED and registry.harbor_version == TO

    # Fixed: resume runs the Job again and the upgrade completes.
    kube_emulator.heal_workload(registry.namespace, "*-migration-*", kind="Job")
    resumed = operation.resume(halted, actor=None, via=Via.SYSTEM, drive=False)
    assert drive(resumed).status == UpgradeStatus.SUCCEEDED


def test_a_component_that_never_gets_ready_halts_at_the_budget_and_rolls_back(registry, kube_emulator):
    kube_emulator.break_workload(
        registry.namespace, f"{registry.name}-core", "ImagePullBackOff", "Back-off pulling image"
    )
    upgrade = operation.start_upgrade(
        registry, TO, actor=None, via=Via.SYSTEM, budget_seconds=60, drive=False
    )
    current = operation.advance(upgrade.pk)
    assert current is not None and current.status == UpgradeStatus.RUNNING and current.step == "core"
    assert "ImagePullBackOff" in current.step_entry("core")["message"]

    assert upgrade.deadline is not None
    late = operation.advance(upgrade.pk, now=upgrade.deadline)
    assert late is not None and late.status == UpgradeStatus.HALTED
    assert "did not finish within its budget of 60 s: step core was still waiting" in late.reason
    assert "ImagePullBackOff" in late.reason and late.whose_move == WhoseMove.PROVIDER
    assert versions(kube_emulator, registry)["jobservice"] == FROM


def test_rolling_back_before_the_migration_puts_every_image_back(registry, kube_emulator):
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    rolled_back = operation.rollback(upgrade, actor=None, via=Via.SYSTEM)
    assert rolled_back.status == UpgradeStatus.ROLLED_BACK
    registry.refresh_from_db()
    assert registry.harbor_version == FROM
    assert reconcile(registry.pk).phase == Phase.READY
    assert set(versions(kube_emulator, registry).values()) == {FROM}
    assert jobs(kube_emulator, registry) == []


def test_preflight_refuses_without_a_backup_marker_and_changes_nothing(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster, harbor_version=FROM)
    reconcile(registry.pk)
    registry.refresh_from_db()
    upgrade = operation.start_upgrade(registry, TO, actor=None, via=Via.SYSTEM, drive=False)
    assert upgrade.status == UpgradeStatus.HALTED and upgrade.step == "preflight"
    assert "records no database backup marker" in upgrade.reason
    registry.refresh_from_db()
    assert registry.harbor_version == FROM
    checks = {c["name"]: c["ok"] for c in upgrade.step_entry("preflight")["checks"]}
    assert checks["database backup"] is False and checks["ready"] is True and checks["target"] is True


def test_preflight_refuses_a_target_the_catalogue_forbids(registry):
    upgrade = operation.start_upgrade(registry, "2.13.5", actor=None, via=Via.SYSTEM, drive=False)
    assert upgrade.status == UpgradeStatus.HALTED and "cannot be downgraded" in upgrade.reason


def test_polls_of_a_component_waiting_to_get_ready_read_it_without_reconciling_again(registry, kube_emulator):
    """A step reconciles once with its component moved; the polls after only read the workload's readiness (a
    resumed step reconciles again)."""
    kube_emulator.break_workload(
        registry.namespace, f"{registry.name}-core", "ImagePullBackOff", "Back-off pulling image"
    )
    upgrade = operation.start_upgrade(
        registry, TO, actor=None, via=Via.SYSTEM, budget_seconds=60, drive=False
    )
    runs: list[str] = []

    def counted(registry_id: int) -> Outcome:
        runs.append(Upgrade.objects.get(pk=upgrade.pk).step)
        return reconcile(registry_id)

    current = operation.advance(upgrade.pk, reconcile_fn=counted)
    assert current is not None and current.step == "core" and runs == ["migration", "core"]
    for _ in range(3):
        current = operation.advance(upgrade.pk, reconcile_fn=counted)
        assert current is not None and current.status == UpgradeStatus.RUNNING and current.step == "core"
        assert "ImagePullBackOff" in current.step_entry("core")["message"]
    assert runs == ["migration", "core"]

    assert upgrade.deadline is not None
    halted = operation.advance(upgrade.pk, now=upgrade.deadline, reconcile_fn=counted)
    assert halted is not None and halted.status == UpgradeStatus.HALTED
    kube_emulator.heal_workload(registry.namespace, f"{registry.name}-core")
    operation.resume(halted, actor=None, via=Via.SYSTEM, drive=False)
    done = drive(upgrade, counted)
    assert done.status == UpgradeStatus.SUCCEEDED, done.reason
    assert runs[:3] == ["migration", "core", "core"]
