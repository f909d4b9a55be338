"""Pods as the simulated controllers make them, and the status a simulated kubelet reports for them.

A pod is built from its owner's template (labels, annotations, spec with a pod's defaults), owned by its controller
(``ownerReferences`` with ``controller: true``) and bound to the emulator's one node. Its status follows one of four
states: waiting to start (``Pending``, or unschedulable while a claim is unbound), running but not ready, ready, or
finished (``Succeeded``/``Failed`` for a Job's pod); a broken workload's pods wait with the rule's reason.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from typing import Any

from . import defaults
from .values import deep_copy, now_rfc3339

NODE_NAME = "kubeemulator-node-1"
HOST_IP = "10.0.0.11"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_PULL_FAILURES = frozenset(
    {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"}
)

PENDING, UNSCHEDULABLE, STARTING, READY, SUCCEEDED, FAILED, WAITING = (
    "Pending",
    "Unschedulable",
    "Starting",
    "Ready",
    "Succeeded",
    "Failed",
    "Waiting",
)


def template_hash(template: Any) -> str:
    """A stable 10-character hash of a pod template (the ``pod-template-hash`` label's role)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:10])


def random_suffix(generator: random.Random, length: int = 5) -> str:
    return "".join(generator.choice(_SAFE) for _ in range(length))


def owner_reference(owner: dict[str, Any], controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def build_pod(
    owner: dict[str, Any],
    template: dict[str, Any],
    *,
    name: str = "",
    generate_name: str = "",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A pod of ``owner`` from ``template`` (name or generateName given), not yet admitted nor stored."""
    template_metadata = template.get("metadata") or {}
    metadata: dict[str, Any] = {
        "namespace": owner["metadata"]["namespace"],
        "labels": {**(template_metadata.get("labels") or {}), **(labels or {})},
        "ownerReferences": [owner_reference(owner)],
    }
    if name:
        metadata["name"] = name
    if generate_name:
        metadata["generateName"] = generate_name
    if template_metadata.get("annotations"):
        metadata["annotations"] = dict(template_metadata["annotations"])
    spec = deep_copy(template.get("spec") or {})
    spec["nodeName"] = NODE_NAME
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec}
    defaults.apply_defaults("Pod", pod)
    tolerations = spec.setdefault("tolerations", [])
    for taint in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == taint for t in tolerations if isinstance(t, dict)):
            tolerations.append(
                {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            )
    return pod


@dataclass(frozen=True)
class Why:
    """Why a pod is not (yet) ready: a reason and a message for its conditions or container state."""

    reason: str
    message: str


def pod_ip(uid: str) -> str:
    digest = hashlib.sha256(uid.encode()).digest()
    return f"10.244.{digest[0]}.{max(digest[1], 2)}"


def pod_status(pod: dict[str, Any], state: str, why: Why | None = None) -> dict[str, Any]:
    """The status of ``pod`` in ``state`` (see the module docstring), keeping its start time."""
    before = pod.get("status") or {}
    now = now_rfc3339()
    started = before.get("startTime", now)
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    ready = state in (READY,)
    phase = {
        PENDING: "Pending",
        UNSCHEDULABLE: "Pending",
        STARTING: "Running",
        READY: "Running",
        SUCCEEDED: "Succeeded",
        FAILED: "Failed",
    }.get(state, "Pending")
    if state == WAITING and why is not None and why.reason not in _PULL_FAILURES:
        phase = "Running"
    status: dict[str, Any] = {"phase": phase, "qosClass": qos_class(pod)}
    scheduled = state != UNSCHEDULABLE
    conditions = [
        {"type": "PodScheduled", "status": "True" if scheduled else "False"},
    ]
    if not scheduled and why is not None:
        conditions[0] |= {"reason": "Unschedulable", "message": why.message}
        status["conditions"] = _stamp(conditions, before, now)
        return status
    status |= {"hostIP": HOST_IP, "podIP": pod_ip(pod["metadata"].get("uid", "")), "startTime": started}
    status["podIPs"] = [{"ip": status["podIP"]}]
    finished = state in (SUCCEEDED, FAILED)
    conditions += [
        {"type": "Initialized", "status": "True"},
        {"type": "ContainersReady", "status": "True" if ready else "False"},
        {"type": "Ready", "status": "True" if ready else "False"},
    ]
    if not ready and not finished:
        reason = "ContainersNotReady"
        message = f"containers with unready status: [{' '.join(containers)}]"
        for condition in conditions[2:]:
            condition |= {"reason": reason, "message": message}
    if finished:
        for condition in conditions[2:]:
            condition["reason"] = "PodCompleted"
    status["conditions"] = _stamp(conditions, before, now)
    status["containerStatuses"] = [_container_status(pod, name, state, why, started) for name in containers]
    return status


def _container_status(
    pod: dict[str, Any], name: str, state: str, why: Why | None, started: str
) -> dict[str, Any]:
    image = next(
        (c.get("image", "") for c in pod["spec"].get("containers") or [] if c.get("name") == name), ""
    )
    result: dict[str, Any] = {
        "name": name,
        "image": image,
        "imageID": "",
        "ready": state == READY,
        "restartCount": 0,
        "started": state in (STARTING, READY),
    }
    if state in (STARTING, READY):
        result["state"] = {"running": {"startedAt": started}}
        result["containerID"] = f"containerd://{pod['metadata'].get('uid', '')[:12]}{name}"
    elif state == SUCCEEDED:
        result["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started}}
    elif state == FAILED:
        reason = why.reason if why else "Error"
        message = why.message if why else ""
        result["state"] = {"terminated": {"exitCode": 1, "reason": reason, "message": message}}
    else:
        waiting = {"reason": why.reason, "message": why.message} if why else {"reason": "ContainerCreating"}
        result["state"] = {"waiting": waiting}
    return result


def _stamp(conditions: list[dict[str, Any]], before: dict[str, Any], now: str) -> list[dict[str, Any]]:
    previous = {c.get("type"): c for c in before.get("conditions") or []}
    stamped = []
    for condition in conditions:
        old = previous.get(condition["type"], {})
        same = old.get("status") == condition["status"]
        stamped.append(
            {**condition, "lastTransitionTime": old.get("lastTransitionTime", now) if same else now}
        )
    return stamped


def qos_class(pod: dict[str, Any]) -> str:
    containers = (pod.get("spec") or {}).get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if all(not r.get("requests") and not r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        set(r.get("limits") or {}) >= {"cpu", "memory"}
        and all((r.get("requests") or {}).get(k, v) == v for k, v in (r.get("limits") or {}).items())
        for r in resources
    )
    return "Guaranteed" if guaranteed else "Burstable"


def is_terminal(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_ready(pod: dict[str, Any]) -> bool:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def controller_of(obj: dict[str, Any]) -> dict[str, Any] | None:
    for reference in obj["metadata"].get("ownerReferences") or []:
        if reference.get("controller"):
            return dict(reference)
    return None
