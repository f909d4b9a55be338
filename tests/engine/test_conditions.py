"""Conditions and phase, derived from one run's observation: a person can read what is wrong and whose move it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from provisioning.choices import DesiredState, ErrorClass, Phase, WhoseMove
from provisioning.reconcile.conditions import DependencyView, Observation, derive
from provisioning.reconcile.errors import Failure
from provisioning.reconcile.readiness import CertificateState, WorkloadState

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
READY_CERT = CertificateState(present=True, ready=True)
DEPS_OK = DependencyView(True, "Dependencies are ready: database, cache, storage.")


def workload(component: str, *, ready: int = 2, desired: int = 2, stalled: str = "", version: str = "2.14.4"):
    return WorkloadState(
        component=component,
        kind="Deployment",
        name=f"r-{component}",
        present=True,
        desired=desired,
        ready=ready,
        available=ready >= desired,
        rolled_out=ready >= desired and not stalled,
        stalled=stalled,
        version=version,
    )


HEALTHY = (workload("core"), workload("portal"), workload("registry"), workload("jobservice"))


def observe(**values) -> Observation:
    defaults: dict[str, Any] = {
        "desired_state": DesiredState.RUNNING,
        "desired_version": "2.14.4",
        "deployed_version": "2.14.4",
        "dependencies": DEPS_OK,
        "objects": 40,
        "workloads": HEALTHY,
        "certificate": READY_CERT,
    }
    defaults.update(values)
    return Observation(**defaults)


def by_type(derived) -> dict[str, dict]:
    return {c["type"]: c for c in derived.conditions}


def test_a_healthy_stack_is_ready_with_every_condition_saying_so():
    derived = derive(observe(), [], NOW)
    assert derived.phase == Phase.READY and derived.rolled_out
    conditions = by_type(derived)
    assert {t: c["status"] for t, c in conditions.items()} == {
        "DependenciesReady": "True",
        "ResourcesApplied": "True",
        "Available": "True",
        "Progressing": "False",
        "Degraded": "False",
    }
    assert conditions["ResourcesApplied"]["message"] == "All 40 objects of the stack are applied."
    assert all(c["since"] == NOW.isoformat() for c in derived.conditions)


def test_since_is_kept_while_a_status_holds_and_moves_when_it_changes():
    first = derive(observe(), [], NOW)
    later = NOW + timedelta(minutes=5)
    broken = (workload("core", ready=0, stalled="ImagePullBackOff: Back-off pulling image"), *HEALTHY[1:])
    second = derive(observe(workloads=broken), first.conditions, later)
    conditions = by_type(second)
    assert conditions["DependenciesReady"]["since"] == NOW.isoformat()
    assert conditions["Available"]["since"] == later.isoformat()
    assert conditions["Degraded"]["since"] == later.isoformat()


def test_a_workload_that_cannot_start_degrades_the_registry_and_it_is_the_providers_move():
    broken = (workload("core", ready=0, stalled="ImagePullBackOff: Back-off pulling image"), *HEALTHY[1:])
    derived = derive(observe(workloads=broken), [], NOW)
    conditions = by_type(derived)
    assert derived.phase == Phase.DEGRADED
    assert conditions["Available"]["message"] == (
        "Core has 0 of 2 replicas ready (ImagePullBackOff: Back-off pulling image)."
    )
    assert conditions["Available"]["whose_move"] == WhoseMove.PROVIDER
    assert (conditions["Progressing"]["status"], conditions["Progressing"]["reason"]) == (
        "False",
        "RolloutStalled",
    )
    assert (conditions["Degraded"]["status"], conditions["Degraded"]["whose_move"]) == (
        "True",
        WhoseMove.PROVIDER,
    )


def test_a_first_rollout_is_provisioning_until_everything_is_available():
    starting = (workload("core", ready=0), *HEALTHY[1:])
    derived = derive(observe(deployed_version="", workloads=starting), [], NOW)
    conditions = by_type(derived)
    assert derived.phase == Phase.PROVISIONING and not derived.rolled_out
    assert conditions["Progressing"]["status"] == "True"
    assert conditions["Available"]["whose_move"] == WhoseMove.TRANSIENT
    assert conditions["Degraded"]["status"] == "False"  # nothing was deployed: nothing is degraded yet
    assert derive(observe(deployed_version=""), [], NOW).phase == Phase.READY


def test_a_held_rollout_names_each_failing_dependency_and_whose_move_it_is():
    dependencies = DependencyView(
        False,
        "database is unreachable at db.example:5432 (provider's move).",
        WhoseMove.PROVIDER,
        ErrorClass.DEPENDENCY_UNREACHABLE,
    )
    failure = Failure(
        ErrorClass.DEPENDENCY_UNREACHABLE, True, WhoseMove.PROVIDER, "DependencyUnreachable", "x."
    )
    held = observe(
        deployed_version="",
        workloads=(),
        certificate=None,
        dependencies=dependencies,
        held=True,
        failure=failure,
    )
    derived = derive(held, [], NOW)
    conditions = by_type(derived)
    assert derived.phase == Phase.PROVISIONING
    assert conditions["DependenciesReady"]["status"] == "False"
    assert "Database is unreachable at db.example:5432" in conditions["DependenciesReady"]["message"]
    assert conditions["DependenciesReady"]["whose_move"] == WhoseMove.PROVIDER
    assert conditions["ResourcesApplied"]["reason"] == "HeldForDependencies"
    deployed = derive(observe(dependencies=dependencies, held=True, failure=failure), [], NOW)
    assert deployed.phase == Phase.DEGRADED


def test_a_certificate_that_cannot_be_issued_is_the_customers_move():
    certificate = CertificateState(present=True, ready=False, reason="Failed", message="DNS record not found")
    conditions = by_type(derive(observe(certificate=certificate), [], NOW))
    assert conditions["DependenciesReady"]["whose_move"] == WhoseMove.CUSTOMER
    assert "check that the hostname's DNS points at the ingress" in conditions["DependenciesReady"]["message"]
    issuing = CertificateState(present=True, ready=False, issuing=True, reason="DoesNotExist")
    derived = derive(observe(certificate=issuing), [], NOW)
    assert by_type(derived)["DependenciesReady"]["whose_move"] == WhoseMove.TRANSIENT
    assert derived.phase == Phase.READY  # still serving while a certificate is renewed


def test_a_permanent_failure_waits_for_a_person_and_a_transient_one_does_not():
    permanent = Failure(ErrorClass.API_FORBIDDEN, False, WhoseMove.PROVIDER, "ApiForbidden", "Forbidden.")
    assert derive(observe(failure=permanent), [], NOW).phase == Phase.FAILED
    transient = Failure(
        ErrorClass.API_UNAVAILABLE, True, WhoseMove.TRANSIENT, "ApiUnavailable", "Unavailable."
    )
    derived = derive(observe(failure=transient), [], NOW)
    assert derived.phase == Phase.DEGRADED
    applied = by_type(derived)["ResourcesApplied"]
    assert (applied["status"], applied["reason"], applied["whose_move"]) == (
        "False",
        "ApiUnavailable",
        "transient",
    )


def test_an_upgrade_is_upgrading_until_every_workload_runs_the_new_version():
    old = tuple(workload(w.component, version="2.14.4") for w in HEALTHY)
    rolling = (workload("core", ready=1, version="2.15.2"), *old[1:])
    derived = derive(observe(desired_version="2.15.2", workloads=rolling), [], NOW)
    assert derived.phase == Phase.UPGRADING and not derived.rolled_out
    assert by_type(derived)["Progressing"]["reason"] == "UpgradeInProgress"
    done = tuple(workload(w.component, version="2.15.2") for w in HEALTHY)
    finished = derive(observe(desired_version="2.15.2", workloads=done), [], NOW)
    assert finished.phase == Phase.READY and finished.rolled_out


def test_a_suspended_registry_says_so():
    scaled = tuple(workload(w.component, ready=0, desired=0) for w in HEALTHY)
    derived = derive(observe(desired_state=DesiredState.SUSPENDED, workloads=scaled), [], NOW)
    assert derived.phase == Phase.SUSPENDED
    available = by_type(derived)["Available"]
    assert (available["status"], available["reason"]) == ("False", "Suspended")


@pytest.mark.parametrize(
    ("remaining", "phase", "reason"), [(3, Phase.DELETING, "Deleting"), (0, Phase.DELETED, "Deleted")]
)
def test_deletion_is_deleting_until_nothing_is_left(remaining, phase, reason):
    derived = derive(observe(desired_state=DesiredState.DELETED, remaining=remaining), [], NOW)
    assert derived.phase == phase
    assert by_type(derived)["ResourcesApplied"]["reason"] == reason


def test_managed_redis_counts_towards_the_cache_dependency():
    redis = WorkloadState("redis", "StatefulSet", "r-redis", True, 1, ready=0, available=False)
    conditions = by_type(derive(observe(workloads=(*HEALTHY, redis), managed_cache=True), [], NOW))
    assert conditions["DependenciesReady"]["status"] == "False"
    assert conditions["DependenciesReady"]["message"].startswith("Cache: the managed Redis is not available")
    assert conditions["Available"]["status"] == "False"


UNREACHABLE = Failure(
    ErrorClass.CLUSTER_UNREACHABLE,
    True,
    WhoseMove.TRANSIENT,
    "ClusterUnreachable",
    "list Namespace: the API server at https://10.0.0.1:6443 could not be reached (timed out).",
)
FORBIDDEN_LIST = Failure(
    ErrorClass.API_FORBIDDEN,
    False,
    WhoseMove.PROVIDER,
    "ApiForbidden",
    "The Kubernetes API answered 403 Forbidden to list Namespace: namespaces is forbidden. Check the cluster's "
    "credentials and the console's RBAC.",
)


def unread(failure: Failure = UNREACHABLE, **values) -> Observation:
    """A run that could not read the cluster: nothing was seen, the failure says why."""
    return observe(workloads=(), certificate=None, failure=failure, cluster_read=False, **values)


def test_an_unreadable_cluster_makes_what_was_not_seen_unknown_and_keeps_the_last_observation():
    healthy = derive(observe(), [], NOW)
    later = NOW + timedelta(minutes=5)

    derived = derive(unread(), healthy.conditions, later)

    conditions = by_type(derived)
    for type_ in ("ResourcesApplied", "Available", "Progressing", "DependenciesReady"):
        assert (conditions[type_]["status"], conditions[type_]["reason"]) == ("Unknown", "ClusterUnreachable")
        assert conditions[type_]["whose_move"] == WhoseMove.TRANSIENT
    available = conditions["Available"]
    assert available["message"].startswith(
        "Whether the components are available is not known: the cluster could not be read (list Namespace: "
    )
    assert available["message"].endswith(
        "Last observed 2026-05-01 12:00 UTC: True (AllComponentsAvailable), Available: core, portal, registry, "
        "jobservice."
    )
    assert "No workload" not in available["message"]
    assert conditions["DependenciesReady"]["message"].startswith(
        "The database, cache and object storage are ready, but the TLS certificate could not be seen: the cluster "
        "could not be read"
    )
    assert (conditions["Degraded"]["status"], conditions["Degraded"]["reason"]) == (
        "True",
        "ClusterUnreachable",
    )
    assert derived.phase == Phase.DEGRADED and not derived.rolled_out

    still = by_type(derive(unread(), derived.conditions, later + timedelta(minutes=5)))
    assert still["Available"]["last_observed"] == available["last_observed"]  # the last evidence is kept
    assert still["Available"]["since"] == later.isoformat()


def test_a_cluster_that_refuses_the_console_is_the_providers_move_and_waits_for_a_person():
    derived = derive(unread(FORBIDDEN_LIST), derive(observe(), [], NOW).conditions, NOW)
    conditions = by_type(derived)
    assert (conditions["Available"]["status"], conditions["Available"]["whose_move"]) == (
        "Unknown",
        WhoseMove.PROVIDER,
    )
    assert "Check the cluster's credentials" in conditions["Available"]["message"]
    assert derived.phase == Phase.FAILED


def test_failing_dependencies_stay_facts_when_the_cluster_cannot_be_read():
    dependencies = DependencyView(
        False,
        "database is unreachable at db.example:5432.",
        WhoseMove.PROVIDER,
        ErrorClass.DEPENDENCY_UNREACHABLE,
    )
    conditions = by_type(derive(unread(dependencies=dependencies), [], NOW))
    assert conditions["DependenciesReady"]["status"] == "False"
    assert conditions["DependenciesReady"]["message"].startswith("Database is unreachable at db.example:5432")
    assert "the TLS certificate not seen" in conditions["DependenciesReady"]["message"]


def test_a_registry_never_deployed_stays_provisioning_while_its_cluster_cannot_be_read():
    derived = derive(unread(deployed_version=""), [], NOW)
    assert derived.phase == Phase.PROVISIONING
    conditions = by_type(derived)
    assert conditions["Available"]["status"] == "Unknown" and "last_observed" not in conditions["Available"]
    assert conditions["Degraded"]["status"] == "False"
