"""Deployments, ReplicaSets, StatefulSets and Jobs: their controllers' algorithms, with the real arithmetic.

* A Deployment owns one ReplicaSet per pod template (``<name>-<pod-template-hash>``). A rolling update scales the
  new ReplicaSet up while ``replicas + maxSurge`` pods exist at most, and the old ones down while at least
  ``replicas - maxUnavailable`` pods are available (``maxSurge`` 25 % rounded up, ``maxUnavailable`` 25 % rounded
  down by default); ``Recreate`` empties the old ReplicaSets first. Its status and conditions (``Available``,
  ``Progressing``, ``ReplicaFailure``) are computed from the pods as the deployment controller does.
* A ReplicaSet creates or deletes pods to match its replicas; a pod refused by admission (a ResourceQuota, a
  LimitRange) sets the ``ReplicaFailure`` condition with the refusal and a ``FailedCreate`` Warning event.
* A StatefulSet creates ``<name>-<ordinal>`` pods in order (each waits for the previous to be ready unless
  ``Parallel``), their claims from ``volumeClaimTemplates`` first, and rolls pods from the highest ordinal; a refused
  pod or claim is a ``FailedCreate`` Warning event (StatefulSets have no ReplicaFailure condition).
* A Job runs ``parallelism`` pods until ``completions`` succeeded, or fails past ``backoffLimit``.

Each sync runs to a fixed point at once: with no readiness delay a whole rollout completes in one write's
aftermath; with a delay it advances when the pods become ready.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from . import pods
from .errors import ApiError
from .kinds import CLAIM, DEPLOYMENT, JOB, POD, REPLICA_SET, STATEFUL_SET, Kind
from .values import deep_copy, now_rfc3339, same_but_timestamps

if TYPE_CHECKING:
    from .controllers import Controllers

HASH_LABEL = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
_ROUNDS = 200


# ---- helpers ---------------------------------------------------------------------------------------------


def _desired(obj: dict[str, Any]) -> int:
    return int((obj.get("spec") or {}).get("replicas", 1))


def _revision(obj: dict[str, Any]) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, 0))
    except ValueError:
        return 0


def _owned(ctl: Controllers, owner: dict[str, Any], kind: Kind) -> list[dict[str, Any]]:
    uid = owner["metadata"]["uid"]
    found = [
        obj for obj in ctl.store.dependents(uid, kind) if (pods.controller_of(obj) or {}).get("uid") == uid
    ]
    return sorted(found, key=lambda o: int(o["metadata"]["resourceVersion"]))


def _fresh(ctl: Controllers, kind: Kind, obj: dict[str, Any]) -> dict[str, Any] | None:
    return ctl.store.find(kind, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])


def _count(**counts: int) -> dict[str, int]:
    """Replica counts as the API server serialises them: zeros are omitted."""
    return {k: v for k, v in counts.items() if v}


def _conditions(
    before: dict[str, Any], *wanted: dict[str, Any], update_time: bool = True
) -> list[dict[str, Any]]:
    """Conditions keeping their timestamps while unchanged (``lastTransitionTime`` while the status holds)."""
    now = now_rfc3339()
    previous = {c.get("type"): c for c in before.get("conditions") or []}
    result = []
    for condition in wanted:
        old = previous.get(condition["type"], {})
        same_status = old.get("status") == condition["status"]
        same = same_status and all(old.get(k) == condition.get(k) for k in ("reason", "message"))
        stamped = dict(condition)
        if update_time:
            stamped["lastUpdateTime"] = old.get("lastUpdateTime", now) if same else now
        stamped["lastTransitionTime"] = old.get("lastTransitionTime", now) if same_status else now
        result.append(stamped)
    return result


def _int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        share = total * int(value[:-1]) / 100
        return math.ceil(share) if round_up else math.floor(share)
    return int(value)


def rolling_bounds(deployment: dict[str, Any]) -> tuple[int, int]:
    """``(maxSurge, maxUnavailable)`` in pods, as the deployment controller resolves them."""
    spec = deployment.get("spec") or {}
    replicas = _desired(deployment)
    rolling = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = _int_or_percent(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _int_or_percent(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _workload_of(ctl: Controllers, replica_set: dict[str, Any]) -> tuple[Kind, dict[str, Any]]:
    """The object whose readiness clock and broken rules a ReplicaSet's pods follow (its Deployment)."""
    owner = pods.controller_of(replica_set)
    if owner is not None and owner.get("kind") == "Deployment":
        found = ctl.store.find(DEPLOYMENT, replica_set["metadata"]["namespace"], owner["name"])
        if found is not None:
            return DEPLOYMENT, found
    return REPLICA_SET, replica_set


def _write_status(
    ctl: Controllers, kind: Kind, obj: dict[str, Any], status: dict[str, Any]
) -> dict[str, Any]:
    if same_but_timestamps(obj.get("status") or {}, status):
        return obj
    return ctl.store.system_status(kind, obj, status)


# ---- ReplicaSet --------------------------------------------------------------------------------------------


def sync_replica_set(ctl: Controllers, replica_set: dict[str, Any]) -> None:
    """Create or delete pods to match the replicas."""
    replicate(ctl, replica_set)


def replicate(ctl: Controllers, replica_set: dict[str, Any]) -> bool:
    """Create or delete pods to match the replicas; returns whether pods came or went."""
    store = ctl.store
    workload = _workload_of(ctl, replica_set)
    desired = _desired(replica_set)
    current = [ctl.refresh_pod(pod, workload) for pod in _owned(ctl, replica_set, POD)]
    changed, failure = False, ""
    if len(current) < desired:
        template = (replica_set.get("spec") or {}).get("template") or {}
        for _ in range(desired - len(current)):
            pod = pods.build_pod(replica_set, template, generate_name=f"{replica_set['metadata']['name']}-")
            try:
                created = ctl.create_pod(pod)
            except ApiError as error:
                failure = error.message
                break
            current.append(ctl.refresh_pod(created, workload))
            changed = True
    elif len(current) > desired:
        victims = sorted(current, key=lambda p: (pods.is_ready(p), -int(p["metadata"]["resourceVersion"])))
        for pod in victims[: len(current) - desired]:
            store.remove(POD, pod)
            current.remove(pod)
            changed = True
    if failure:
        ctl.event(
            REPLICA_SET,
            replica_set,
            "FailedCreate",
            f"Error creating: {failure}",
            component="replicaset-controller",
        )
    ctl.blocked(REPLICA_SET, replica_set, bool(failure))
    fresh = _fresh(ctl, REPLICA_SET, replica_set)
    if fresh is None:
        return changed
    before = fresh.get("status") or {}
    ready = sum(1 for p in current if pods.is_ready(p))
    status: dict[str, Any] = {
        "replicas": len(current),
        **_count(fullyLabeledReplicas=len(current), readyReplicas=ready, availableReplicas=ready),
        "observedGeneration": fresh["metadata"].get("generation", 1),
    }
    previous = next((c for c in before.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None)
    if failure or (previous is not None and len(current) < desired):
        message = failure or previous["message"] if previous else failure
        failed = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": message}
        status["conditions"] = _conditions(before, failed, update_time=False)
    _write_status(ctl, REPLICA_SET, fresh, status)
    return changed


# ---- Deployment --------------------------------------------------------------------------------------------


def _new_replica_set(
    deployment: dict[str, Any], template: dict[str, Any], digest: str, revision: int
) -> dict[str, Any]:
    metadata = deployment["metadata"]
    labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH_LABEL: digest}
    selector = deep_copy((deployment.get("spec") or {}).get("selector") or {})
    selector.setdefault("matchLabels", {})[HASH_LABEL] = digest
    pod_template = deep_copy(template)
    pod_template.setdefault("metadata", {})["labels"] = labels
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{metadata['name']}-{digest}",
            "namespace": metadata["namespace"],
            "labels": labels,
            "annotations": {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(_desired(deployment)),
                "deployment.kubernetes.io/max-replicas": str(
                    _desired(deployment) + rolling_bounds(deployment)[0]
                ),
            },
            "ownerReferences": [pods.owner_reference(deployment)],
        },
        "spec": {
            "replicas": 0,
            "selector": selector,
            "template": pod_template,
            "minReadySeconds": int((deployment.get("spec") or {}).get("minReadySeconds", 0)),
        },
    }


def _scale(ctl: Controllers, replica_set: dict[str, Any], replicas: int, deployment: dict[str, Any]) -> None:
    live = _fresh(ctl, REPLICA_SET, replica_set)
    if live is None or _desired(live) == replicas:
        return
    annotations = {
        **(live["metadata"].get("annotations") or {}),
        "deployment.kubernetes.io/desired-replicas": str(_desired(deployment)),
    }
    new = {
        **live,
        "metadata": {**live["metadata"], "annotations": annotations},
        "spec": {**live["spec"], "replicas": replicas},
    }
    ctl.store.system_update(REPLICA_SET, live, new)


def _ready(ctl: Controllers, replica_set: dict[str, Any]) -> int:
    return sum(1 for pod in _owned(ctl, replica_set, POD) if pods.is_ready(pod))


def _replica_sets(
    ctl: Controllers, deployment: dict[str, Any], digest: str
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    owned = sorted(_owned(ctl, deployment, REPLICA_SET), key=_revision)
    new = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get(HASH_LABEL) == digest), None)
    return new, [rs for rs in owned if rs is not new]


def sync_deployment(ctl: Controllers, deployment: dict[str, Any]) -> None:
    store = ctl.store
    spec = deployment.get("spec") or {}
    template = spec.get("template") or {}
    digest = pods.template_hash(template)
    replicas = _desired(deployment)
    new, olds = _replica_sets(ctl, deployment, digest)
    top = max((_revision(rs) for rs in olds), default=0)
    if new is None:
        new = store.system_create(REPLICA_SET, _new_replica_set(deployment, template, digest, top + 1))
    elif _revision(new) < top:
        annotations = {**(new["metadata"].get("annotations") or {}), REVISION: str(top + 1)}
        new = store.system_update(
            REPLICA_SET, new, {**new, "metadata": {**new["metadata"], "annotations": annotations}}
        )
    recreate = (spec.get("strategy") or {}).get("type") == "Recreate"
    surge, unavailable = (0, 0) if recreate else rolling_bounds(deployment)
    for _ in range(_ROUNDS):
        new, olds = _replica_sets(ctl, deployment, digest)
        if new is None:
            return
        before = [(rs["metadata"]["uid"], _desired(rs)) for rs in [new, *olds]]
        if recreate:
            if any(_desired(rs) for rs in olds):
                for rs in olds:
                    _scale(ctl, rs, 0, deployment)
            elif not any(_owned(ctl, rs, POD) for rs in olds):
                _scale(ctl, new, replicas, deployment)
        else:
            _roll(ctl, deployment, new, olds, replicas, surge, unavailable)
        latest, olds = _replica_sets(ctl, deployment, digest)
        sets = [rs for rs in [latest, *olds] if rs is not None]
        moved = [(rs["metadata"]["uid"], _desired(rs)) for rs in sets] != before
        for each in [*olds, latest]:
            current = _fresh(ctl, REPLICA_SET, each) if each is not None else None
            if current is not None and replicate(ctl, current):
                moved = True
        if not moved:
            break
    _prune_history(ctl, deployment, digest)
    _deployment_status(ctl, deployment, digest, replicas, unavailable)


def _roll(
    ctl: Controllers,
    deployment: dict[str, Any],
    new: dict[str, Any],
    olds: list[dict[str, Any]],
    replicas: int,
    surge: int,
    unavailable: int,
) -> None:
    everything = [new, *olds]
    total = sum(_desired(rs) for rs in everything)
    wanted = _desired(new)
    if wanted < replicas:
        wanted = min(replicas, wanted + max(0, replicas + surge - total))
    elif wanted > replicas:
        wanted = replicas
    _scale(ctl, new, wanted, deployment)
    olds = [rs for rs in (_fresh(ctl, REPLICA_SET, o) for o in olds) if rs is not None and _desired(rs)]
    if not olds:
        return
    fresh_new = _fresh(ctl, REPLICA_SET, new) or new
    everything = [fresh_new, *olds]
    minimum = replicas - unavailable
    new_unavailable = _desired(fresh_new) - _ready(ctl, fresh_new)
    cleanup = sum(_desired(rs) for rs in everything) - minimum - new_unavailable
    for rs in olds:
        unhealthy = _desired(rs) - _ready(ctl, rs)
        take = min(cleanup, unhealthy)
        if take > 0:
            _scale(ctl, rs, _desired(rs) - take, deployment)
            cleanup -= take
    olds = [rs for rs in (_fresh(ctl, REPLICA_SET, o) for o in olds) if rs is not None and _desired(rs)]
    available = sum(_ready(ctl, rs) for rs in [fresh_new, *olds])
    room = available - minimum
    for rs in olds:
        if room <= 0:
            break
        take = min(room, _desired(rs))
        _scale(ctl, rs, _desired(rs) - take, deployment)
        room -= take


def _prune_history(ctl: Controllers, deployment: dict[str, Any], digest: str) -> None:
    limit = int((deployment.get("spec") or {}).get("revisionHistoryLimit", 10))
    _, olds = _replica_sets(ctl, deployment, digest)
    idle = [rs for rs in olds if not _desired(rs) and not _owned(ctl, rs, POD)]
    for rs in idle[: max(0, len(idle) - limit)]:
        ctl.store.remove(REPLICA_SET, rs)


def _deployment_status(
    ctl: Controllers, deployment: dict[str, Any], digest: str, replicas: int, unavailable: int
) -> None:
    live = _fresh(ctl, DEPLOYMENT, deployment)
    if live is None:
        return
    new, olds = _replica_sets(ctl, live, digest)
    if new is None:
        return
    metadata = live["metadata"]
    if (metadata.get("annotations") or {}).get(REVISION) != str(_revision(new)):
        annotations = {**(metadata.get("annotations") or {}), REVISION: str(_revision(new))}
        live = ctl.store.system_update(
            DEPLOYMENT, live, {**live, "metadata": {**metadata, "annotations": annotations}}
        )
        metadata = live["metadata"]
    by_set = {rs["metadata"]["uid"]: _owned(ctl, rs, POD) for rs in [new, *olds]}
    every = [pod for group in by_set.values() for pod in group]
    updated = len(by_set[new["metadata"]["uid"]])
    ready = sum(1 for pod in every if pods.is_ready(pod))
    wanted_total = sum(_desired(rs) for rs in [new, *olds])
    before = live.get("status") or {}
    counts = {
        "replicas": len(every),
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
    }
    moved = any(int(before.get(k, 0)) != v for k, v in counts.items()) or before.get(
        "observedGeneration"
    ) != metadata.get("generation", 1)
    rule = ctl.readiness.rule_for("Deployment", metadata["namespace"], metadata["name"])
    why = f" {rule.reason}: {rule.message}" if rule else ""
    replica_set = f'ReplicaSet "{new["metadata"]["name"]}"'
    if ready >= replicas - unavailable:
        available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        available = (
            "False",
            "MinimumReplicasUnavailable",
            f"Deployment does not have minimum availability.{why}",
        )
    complete = updated == replicas and len(every) == replicas and ready == replicas
    deadline = int((live.get("spec") or {}).get("progressDeadlineSeconds", 600))
    last_move = ctl.progressed(metadata["uid"], moved)
    if rule is not None and not complete:
        progressing = ("False", "ProgressDeadlineExceeded", f"{replica_set} has timed out progressing.{why}")
    elif complete:
        progressing = ("True", "NewReplicaSetAvailable", f"{replica_set} has successfully progressed.")
    elif ctl.now() - last_move >= deadline:
        progressing = ("False", "ProgressDeadlineExceeded", f"{replica_set} has timed out progressing.")
    else:
        progressing = ("True", "ReplicaSetUpdated", f"{replica_set} is progressing.")
        ctl.at(last_move + deadline, DEPLOYMENT, metadata["namespace"], metadata["name"])
    wanted = [
        {"type": kind, "status": s, "reason": r, "message": m}
        for kind, (s, r, m) in (("Available", available), ("Progressing", progressing))
    ]
    failing = next(
        (
            c
            for rs in [new, *olds]
            for c in (rs.get("status") or {}).get("conditions") or []
            if c.get("type") == "ReplicaFailure"
        ),
        None,
    )
    if failing is not None:
        wanted.append(
            {
                "type": "ReplicaFailure",
                "status": "True",
                "reason": "FailedCreate",
                "message": failing["message"],
            }
        )
    status = {
        "observedGeneration": metadata.get("generation", 1),
        **_count(**counts, unavailableReplicas=max(wanted_total - ready, 0)),
        "conditions": _conditions(before, *wanted),
    }
    _write_status(ctl, DEPLOYMENT, live, status)


# ---- StatefulSet -------------------------------------------------------------------------------------------


def _ordinal(pod: dict[str, Any], name: str) -> int | None:
    suffix = pod["metadata"]["name"][len(name) + 1 :]
    return int(suffix) if suffix.isdigit() else None


def _claim_for(stateful_set: dict[str, Any], template: dict[str, Any], ordinal: int) -> dict[str, Any]:
    metadata = stateful_set["metadata"]
    claim_metadata = template.get("metadata") or {}
    selector = ((stateful_set.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    claim: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": f"{claim_metadata.get('name', '')}-{metadata['name']}-{ordinal}",
            "namespace": metadata["namespace"],
            "labels": {**(claim_metadata.get("labels") or {}), **selector},
        },
        "spec": deep_copy(template.get("spec") or {}),
    }
    if claim_metadata.get("annotations"):
        claim["metadata"]["annotations"] = dict(claim_metadata["annotations"])
    retention = (stateful_set.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    if retention.get("whenDeleted") == "Delete":
        claim["metadata"]["ownerReferences"] = [pods.owner_reference(stateful_set, controller=False)]
    return claim


def _stateful_pod(stateful_set: dict[str, Any], ordinal: int, revision: str) -> dict[str, Any]:
    name = f"{stateful_set['metadata']['name']}-{ordinal}"
    spec = stateful_set.get("spec") or {}
    template = deep_copy(spec.get("template") or {})
    volumes = template.setdefault("spec", {}).setdefault("volumes", [])
    for claim in spec.get("volumeClaimTemplates") or []:
        volume_name = (claim.get("metadata") or {}).get("name", "")
        claim_name = f"{volume_name}-{stateful_set['metadata']['name']}-{ordinal}"
        volumes[:] = [v for v in volumes if v.get("name") != volume_name]
        volumes.append({"name": volume_name, "persistentVolumeClaim": {"claimName": claim_name}})
    if not volumes:
        template["spec"].pop("volumes")
    labels = {
        "controller-revision-hash": revision,
        "statefulset.kubernetes.io/pod-name": name,
        "apps.kubernetes.io/pod-index": str(ordinal),
    }
    pod = pods.build_pod(stateful_set, template, name=name, labels=labels)
    pod["spec"].setdefault("hostname", name)
    if spec.get("serviceName"):
        pod["spec"].setdefault("subdomain", spec["serviceName"])
    return pod


def sync_stateful_set(ctl: Controllers, stateful_set: dict[str, Any]) -> None:
    store = ctl.store
    metadata, spec = stateful_set["metadata"], stateful_set.get("spec") or {}
    name = metadata["name"]
    replicas = _desired(stateful_set)
    update_revision = f"{name}-{pods.template_hash(spec.get('template') or {})}"
    current_revision = (stateful_set.get("status") or {}).get("currentRevision") or update_revision
    ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
    strategy = spec.get("updateStrategy") or {}
    rolling = strategy.get("type", "RollingUpdate") == "RollingUpdate"
    partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0) or 0)
    workload = (STATEFUL_SET, stateful_set)
    failure = ""
    for _ in range(_ROUNDS):
        moved = False
        owned = {}
        for each in _owned(ctl, stateful_set, POD):
            ordinal = _ordinal(each, name)
            if ordinal is not None:
                owned[ordinal] = ctl.refresh_pod(each, workload)
        for ordinal in sorted(owned, reverse=True):
            if ordinal >= replicas:
                store.remove(POD, owned.pop(ordinal))
                moved = True
        for ordinal in range(replicas):
            pod: dict[str, Any] | None = owned.get(ordinal)
            if pod is None:
                failure = _ensure_claims(ctl, stateful_set, ordinal)
                if failure:
                    break
                revision = update_revision if ordinal >= partition else current_revision
                try:
                    created = ctl.create_pod(_stateful_pod(stateful_set, ordinal, revision))
                except ApiError as error:
                    failure = (
                        f"create Pod {name}-{ordinal} in StatefulSet {name} failed error: {error.message}"
                    )
                    break
                pod = owned[ordinal] = ctl.refresh_pod(created, workload)
                moved = True
            if ordered and not pods.is_ready(pod):
                break
        if rolling and not moved and len(owned) == replicas and all(pods.is_ready(p) for p in owned.values()):
            for ordinal in range(replicas - 1, partition - 1, -1):
                if (owned[ordinal]["metadata"].get("labels") or {}).get(
                    "controller-revision-hash"
                ) != update_revision:
                    store.remove(POD, owned.pop(ordinal))
                    moved = True
                    break
        if not moved:
            break
    if failure:
        ctl.event(STATEFUL_SET, stateful_set, "FailedCreate", failure, component="statefulset-controller")
    ctl.blocked(STATEFUL_SET, stateful_set, bool(failure))
    live = _fresh(ctl, STATEFUL_SET, stateful_set)
    if live is None:
        return
    current = [p for p in _owned(ctl, live, POD) if _ordinal(p, name) is not None]
    revisions = [(p["metadata"].get("labels") or {}).get("controller-revision-hash") for p in current]
    ready = sum(1 for p in current if pods.is_ready(p))
    updated = revisions.count(update_revision)
    if updated == replicas == len(current) and ready == replicas:
        current_revision = update_revision
    status = {
        "observedGeneration": live["metadata"].get("generation", 1),
        "replicas": len(current),
        **_count(
            readyReplicas=ready,
            currentReplicas=revisions.count(current_revision),
            updatedReplicas=updated,
            availableReplicas=ready,
        ),
        "currentRevision": current_revision,
        "updateRevision": update_revision,
        "collisionCount": 0,
    }
    _write_status(ctl, STATEFUL_SET, live, status)


def _ensure_claims(ctl: Controllers, stateful_set: dict[str, Any], ordinal: int) -> str:
    """Create the ordinal's missing claims; the refusal message when admission refuses one."""
    name = stateful_set["metadata"]["name"]
    for template in (stateful_set.get("spec") or {}).get("volumeClaimTemplates") or []:
        claim = _claim_for(stateful_set, template, ordinal)
        if ctl.store.find(CLAIM, claim["metadata"]["namespace"], claim["metadata"]["name"]) is not None:
            continue
        try:
            ctl.create_claim(claim)
        except ApiError as error:
            return (
                f"create Claim {claim['metadata']['name']} for Pod {name}-{ordinal} in StatefulSet {name} "
                f"failed error: {error.message}"
            )
    return ""


# ---- Job ---------------------------------------------------------------------------------------------------


def _finished(status: dict[str, Any]) -> bool:
    return any(
        c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def sync_job(ctl: Controllers, job: dict[str, Any]) -> None:
    if _finished(job.get("status") or {}):
        return
    spec = job.get("spec") or {}
    completions = int(spec.get("completions", 1))
    parallelism = int(spec.get("parallelism", 1))
    backoff = int(spec.get("backoffLimit", 6))
    workload = (JOB, job)
    failure = ""
    for _ in range(_ROUNDS):
        current = [ctl.refresh_pod(pod, workload, job=True) for pod in _owned(ctl, job, POD)]
        phases = [(p.get("status") or {}).get("phase") for p in current]
        succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
        active = len(current) - succeeded - failed
        wanted = min(parallelism, completions - succeeded) - active
        if succeeded >= completions or failed > backoff or wanted <= 0 or failure:
            break
        template = spec.get("template") or {}
        try:
            created = ctl.create_pod(
                pods.build_pod(job, template, generate_name=f"{job['metadata']['name']}-")
            )
        except ApiError as error:
            failure = error.message
            break
        ctl.refresh_pod(created, workload, job=True)
    if failure:
        ctl.event(JOB, job, "FailedCreate", f"Error creating: {failure}", component="job-controller")
    ctl.blocked(JOB, job, bool(failure))
    live = _fresh(ctl, JOB, job)
    if live is None:
        return
    current = _owned(ctl, live, POD)
    phases = [(p.get("status") or {}).get("phase") for p in current]
    succeeded, failed = phases.count("Succeeded"), phases.count("Failed")
    before = live.get("status") or {}
    now = now_rfc3339()
    status: dict[str, Any] = {"startTime": before.get("startTime", now), "uncountedTerminatedPods": {}}
    status |= _count(active=len(current) - succeeded - failed, succeeded=succeeded, failed=failed)
    status["ready"] = sum(1 for p in current if pods.is_ready(p))
    conditions: list[dict[str, Any]] = []
    if succeeded >= completions:
        done = "Reached expected number of succeeded pods"
        conditions = [
            {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "message": done},
            {"type": "Complete", "status": "True", "reason": "CompletionsReached", "message": done},
        ]
        status["completionTime"] = now
    elif failed > backoff:
        rule = ctl.readiness.rule_for("Job", live["metadata"]["namespace"], live["metadata"]["name"])
        why = f" {rule.reason}: {rule.message}" if rule else ""
        message = f"Job has reached the specified backoff limit.{why}"
        conditions = [
            {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": message},
            {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": message},
        ]
    if conditions:
        stamped = _conditions(before, *conditions, update_time=False)
        for condition in stamped:
            condition["lastProbeTime"] = now
        status["conditions"] = stamped
    _write_status(ctl, JOB, live, status)
