"""Pods a ResourceQuota refuses are read as "quota exceeded", with the API server's figures and whose move it is.

The shapes are what a real cluster serves (Kubernetes API reference; the ReplicaSet and StatefulSet controllers'
sources for the reasons and messages): a Deployment copies its ReplicaSet's ``ReplicaFailure`` condition (reason
``FailedCreate``, message the admission error); a StatefulSet has no such condition, its controller emits Warning
Events ``FailedCreate`` reading ``create Pod <pod> in StatefulSet <set> failed error: <admission error>``; quota
admission words its refusal ``exceeded quota: <name>, requested: <r>=<q>, used: ..., limited: ...`` (resources
sorted, comma-separated) or ``failed quota: <name>: must specify <resource> for: <containers>``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from provisioning.choices import DesiredState, ErrorClass, Phase, WhoseMove
from provisioning.reconcile.conditions import DependencyView, Observation, derive, quota_failure
from provisioning.reconcile.quota import failed_create_event, parse_refusal, replica_failure
from provisioning.reconcile.readiness import CertificateState, workload_state

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
OWN_QUOTA = "harbor-quota"
CORE_REFUSED = (
    'pods "reg-core-7d9f8b6c5d-x2x9q" is forbidden: exceeded quota: harbor-quota, requested: '
    "limits.cpu=1,limits.memory=1Gi, used: limits.cpu=8,limits.memory=15Gi, limited: limits.cpu=8,limits.memory=16Gi"
)
REDIS_REFUSED = (
    'create Pod reg-redis-0 in StatefulSet reg-redis failed error: pods "reg-redis-0" is forbidden: exceeded '
    "quota: harbor-quota, requested: limits.memory=512Mi, used: limits.memory=16Gi, limited: limits.memory=16Gi"
)


def deployment(*conditions: dict[str, Any], ready: int = 0, replicas: int = 2) -> dict[str, Any]:
    """A Deployment as served while its ReplicaSet cannot create every pod."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "reg-core",
            "namespace": "harbor-acme-reg",
            "uid": "7c1e5e0e-8f3a-4d57-9d0b-1f1d1c0c2b11",
            "generation": 1,
            "labels": {"app.kubernetes.io/component": "core", "harbor-console.io/version": "2.14.4"},
        },
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{"name": "core", "image": "i"}]}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": ready,
            "updatedReplicas": ready,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "unavailableReplicas": replicas - ready,
            "conditions": list(conditions),
        },
    }


def condition(type_: str, status: str, reason: str, message: str) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": "2026-05-01T11:50:00Z",
        "lastTransitionTime": "2026-05-01T11:40:00Z",
        "reason": reason,
        "message": message,
    }


UNAVAILABLE = condition(
    "Available", "False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
)
DEADLINE = condition(
    "Progressing",
    "False",
    "ProgressDeadlineExceeded",
    'ReplicaSet "reg-core-7d9f8b6c5d" has timed out progressing.',
)
QUOTA_FAILURE = condition("ReplicaFailure", "True", "FailedCreate", CORE_REFUSED)

STATEFULSET: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "StatefulSet",
    "metadata": {
        "name": "reg-redis",
        "namespace": "harbor-acme-reg",
        "uid": "0b8d2a55-7c0e-4a3f-a6a2-5d3c8e9f1a22",
        "generation": 1,
        "labels": {"app.kubernetes.io/component": "redis"},
    },
    "spec": {"replicas": 1},
    "status": {
        "observedGeneration": 1,
        "replicas": 0,
        "currentRevision": "reg-redis-5c8f9",
        "updateRevision": "reg-redis-5c8f9",
        "collisionCount": 0,
    },
}


def event(message: str, *, last: str = "2026-05-01T11:59:40Z", **overrides: Any) -> dict[str, Any]:
    """A core/v1 Event as the StatefulSet controller records it."""
    item: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": "reg-redis.17c2d9e1a2b3c4d5",
            "namespace": "harbor-acme-reg",
            "uid": "e3a1",
            "resourceVersion": "4242",
            "creationTimestamp": "2026-05-01T11:58:00Z",
        },
        "involvedObject": {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "reg-redis",
            "namespace": "harbor-acme-reg",
            "uid": STATEFULSET["metadata"]["uid"],
            "resourceVersion": "4100",
        },
        "reason": "FailedCreate",
        "message": message,
        "source": {"component": "statefulset-controller"},
        "firstTimestamp": "2026-05-01T11:58:00Z",
        "lastTimestamp": last,
        "count": 14,
        "type": "Warning",
        "eventTime": None,
        "reportingComponent": "statefulset-controller",
        "reportingInstance": "",
    }
    item.update(overrides)
    return item


def test_an_exceeded_quota_is_read_with_its_figures():
    refusal = parse_refusal(CORE_REFUSED, {OWN_QUOTA})
    assert refusal is not None
    assert refusal.quota == OWN_QUOTA and refusal.owned
    assert dict(refusal.requested) == {"limits.cpu": "1", "limits.memory": "1Gi"}
    assert dict(refusal.used) == {"limits.cpu": "8", "limits.memory": "15Gi"}
    assert dict(refusal.limited) == {"limits.cpu": "8", "limits.memory": "16Gi"}
    assert refusal.describe() == (
        "quota harbor-quota exceeded on limits.cpu (requested 1, used 8, limited to 8); "
        "limits.memory (requested 1Gi, used 15Gi, limited to 16Gi)"
    )


def test_whose_move_depends_on_whose_quota_it_is():
    own = parse_refusal(CORE_REFUSED, {OWN_QUOTA})
    assert own is not None and own.whose_move == WhoseMove.PROVIDER
    foreign = parse_refusal(CORE_REFUSED.replace("harbor-quota", "tenant-limit"), {OWN_QUOTA})
    assert foreign is not None and foreign.whose_move == WhoseMove.CUSTOMER
    assert "move it to a larger plan" in foreign.advice()


def test_a_pod_that_states_no_limit_the_quota_counts_is_the_providers_move():
    message = (
        'pods "reg-core-7d9f8b6c5d-x2x9q" is forbidden: failed quota: tenant-limit: must specify '
        "limits.cpu for: core,registryctl; limits.memory for: core"
    )
    refusal = parse_refusal(message, {OWN_QUOTA})
    assert refusal is not None and refusal.unstated == ("limits.cpu", "limits.memory")
    assert refusal.whose_move == WhoseMove.PROVIDER
    assert refusal.describe() == "quota tenant-limit refuses pods that do not state limits.cpu, limits.memory"


def test_other_refusals_are_not_quota():
    assert (
        parse_refusal('pods "x" is forbidden: violates PodSecurity "restricted:latest": privileged') is None
    )
    assert parse_refusal("") is None


def test_a_deployment_refused_by_the_consoles_quota_says_quota_exceeded_not_a_progress_deadline():
    state = workload_state(deployment(UNAVAILABLE, QUOTA_FAILURE, DEADLINE), {OWN_QUOTA})
    assert state.quota is not None and state.quota.owned
    assert state.stalled.startswith("quota harbor-quota exceeded on limits.cpu")
    assert not state.rolled_out and not state.available
    assert replica_failure(deployment(UNAVAILABLE, DEADLINE)) == ""


def test_a_replica_failure_that_is_not_a_quota_still_stalls_with_its_message():
    failure = condition(
        "ReplicaFailure",
        "True",
        "FailedCreate",
        'pods "reg-core-7d9f8b6c5d-x2x9q" is forbidden: violates PodSecurity "restricted:latest": privileged',
    )
    state = workload_state(deployment(UNAVAILABLE, failure), {OWN_QUOTA})
    assert state.quota is None
    assert state.stalled.startswith("pods cannot be created: pods ")
    assert "violates PodSecurity" in state.stalled


def test_a_statefulsets_latest_recent_failed_create_event_is_its_refusal():
    events = [
        event(
            "create Pod reg-redis-0 in StatefulSet reg-redis failed error: older", last="2026-05-01T11:50:00Z"
        ),
        event(REDIS_REFUSED),
        event(
            "create Pod reg-trivy-0 in StatefulSet reg-trivy failed error: x",
            involvedObject={**event("")["involvedObject"], "name": "reg-trivy"},
        ),
        event(
            "create Pod reg-redis-0 in StatefulSet reg-redis failed error: old uid",
            involvedObject={**event("")["involvedObject"], "uid": "an-earlier-object"},
        ),
        event("Normal event", type="Normal", reason="SuccessfulCreate"),
    ]
    assert failed_create_event(events, STATEFULSET, NOW) == REDIS_REFUSED
    assert failed_create_event(events, STATEFULSET, NOW + timedelta(hours=1)) == ""  # history, not now


def test_events_served_by_events_k8s_io_are_read_too():
    modern = {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": "reg-redis.17c2",
            "namespace": "harbor-acme-reg",
            "creationTimestamp": "2026-05-01T11:58:00Z",
        },
        "eventTime": "2026-05-01T11:58:00.000000Z",
        "series": {"count": 9, "lastObservedTime": "2026-05-01T11:59:50.000000Z"},
        "reportingController": "statefulset-controller",
        "reportingInstance": "statefulset-controller-kube-controller-manager",
        "action": "create",
        "reason": "FailedCreate",
        "regarding": {"kind": "StatefulSet", "namespace": "harbor-acme-reg", "name": "reg-redis"},
        "note": REDIS_REFUSED,
        "type": "Warning",
    }
    assert failed_create_event([modern], STATEFULSET, NOW) == REDIS_REFUSED


def test_a_statefulset_refused_by_the_quota_reads_as_quota_exceeded():
    state = workload_state(STATEFULSET, {OWN_QUOTA}).refused(REDIS_REFUSED, {OWN_QUOTA})
    assert state.short and state.quota is not None
    assert dict(state.quota.requested) == {"limits.memory": "512Mi"}


HEALTHY_PORTAL = workload_state(
    {
        **deployment(condition("Available", "True", "MinimumReplicasAvailable", "ok"), ready=2),
        "metadata": {
            **deployment()["metadata"],
            "name": "reg-portal",
            "labels": {"app.kubernetes.io/component": "portal"},
        },
    }
)


def observe(*workloads, deployed: str = "2.14.4") -> Observation:
    return Observation(
        desired_state=DesiredState.RUNNING,
        desired_version="2.14.4",
        deployed_version=deployed,
        dependencies=DependencyView(True, "Dependencies are ready."),
        objects=40,
        workloads=workloads,
        certificate=CertificateState(present=True, ready=True),
    )


def test_conditions_say_quota_exceeded_with_the_figures_and_whose_move():
    core = workload_state(deployment(UNAVAILABLE, QUOTA_FAILURE, DEADLINE), {OWN_QUOTA})
    derived = derive(observe(core, HEALTHY_PORTAL), [], NOW)
    conditions = {c["type"]: c for c in derived.conditions}

    available = conditions["Available"]
    assert (available["status"], available["reason"], available["whose_move"]) == (
        "False",
        "QuotaExceeded",
        WhoseMove.PROVIDER,
    )
    assert available["message"].startswith("Quota exceeded: core cannot create its pods (quota harbor-quota")
    assert "limits.cpu (requested 1, used 8, limited to 8)" in available["message"]
    assert "the provider's move" in available["message"]
    progressing = conditions["Progressing"]
    assert (progressing["status"], progressing["reason"]) == ("False", "QuotaExceeded")
    assert "timed out progressing" not in progressing["message"]
    assert (conditions["Degraded"]["status"], conditions["Degraded"]["reason"]) == ("True", "QuotaExceeded")
    assert derived.phase == Phase.DEGRADED

    failure = quota_failure(observe(core, HEALTHY_PORTAL))
    assert failure is not None
    assert (failure.error_class, failure.transient, failure.whose_move) == (
        ErrorClass.QUOTA_EXCEEDED,
        False,
        WhoseMove.PROVIDER,
    )


def test_a_first_rollout_held_by_a_tenant_quota_is_the_customers_move_and_stays_provisioning():
    core = workload_state(deployment(UNAVAILABLE, QUOTA_FAILURE), {"another-quota"})
    derived = derive(observe(core, HEALTHY_PORTAL, deployed=""), [], NOW)
    available = {c["type"]: c for c in derived.conditions}["Available"]
    assert (available["reason"], available["whose_move"]) == ("QuotaExceeded", WhoseMove.CUSTOMER)
    assert derived.phase == Phase.PROVISIONING
    assert quota_failure(observe(HEALTHY_PORTAL)) is None
