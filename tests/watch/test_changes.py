"""Which changes of an owned object ask for a reconcile (pure), and how requests are coalesced per registry."""

from __future__ import annotations

import copy
import threading
import time
from typing import Any

from provisioning.watch.changes import Memo, memo_of, why_reconcile
from provisioning.watch.enqueue import Coalescer

CONSOLE = "harbor-console"


def deployment(ready: int = 2, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "core",
            "namespace": "ns",
            "generation": 1,
            "resourceVersion": "10",
            "labels": {"harbor-console.io/registry-id": "7"},
            "annotations": {"harbor-console.io/spec-hash": "abc"},
            "managedFields": [
                {
                    "manager": CONSOLE,
                    "operation": "Apply",
                    "time": "2026-12-03T10:00:00Z",
                    "fieldsV1": {"f:spec": {"f:replicas": {}, "f:template": {}}},
                }
            ],
        },
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 1,
            "replicas": replicas,
            "readyReplicas": ready,
            "updatedReplicas": replicas,
            "availableReplicas": ready,
            "conditions": [{"type": "Available", "status": "True" if ready >= replicas else "False"}],
        },
    }


def memo(obj: dict[str, Any]) -> Memo:
    return memo_of(obj, 7, CONSOLE)


def test_a_deletion_and_a_foreign_creation_ask_the_consoles_creation_does_not():
    obj = deployment()
    assert why_reconcile(memo(obj), None) == "deleted"
    assert why_reconcile(None, memo(obj)) == ""
    stray = copy.deepcopy(obj)
    stray["metadata"]["managedFields"] = [{"manager": "kubectl", "operation": "Update", "time": "t"}]
    assert why_reconcile(None, memo(stray)) == "created by another writer"


def test_another_writers_edit_asks_and_the_consoles_own_apply_is_its_echo():
    before = deployment()
    edited = copy.deepcopy(before)
    edited["spec"]["minReadySeconds"] = 30
    edited["metadata"]["managedFields"][0]["fieldsV1"] = {
        "f:spec": {"f:template": {}}
    }  # kubectl took a field
    edited["metadata"]["managedFields"].append({"manager": "kubectl", "operation": "Update", "time": "t"})
    assert why_reconcile(memo(before), memo(edited)) == "changed by another writer"

    repaired = copy.deepcopy(before)
    repaired["metadata"]["managedFields"][0]["time"] = "2026-12-03T10:05:00Z"
    assert why_reconcile(memo(edited), memo(repaired)) == ""
    taken_back = copy.deepcopy(before)  # within the same second: the console's entry grew back
    assert why_reconcile(memo(edited), memo(taken_back)) == ""


def test_status_and_bookkeeping_alone_ask_only_when_readiness_changes():
    before = deployment()
    bumped = copy.deepcopy(before)
    bumped["metadata"]["resourceVersion"] = "11"
    bumped["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "2"
    assert why_reconcile(memo(before), memo(bumped)) == ""
    broken = deployment(ready=1)
    assert why_reconcile(memo(before), memo(broken)) == "readiness changed"
    assert why_reconcile(memo(broken), memo(before)) == "readiness changed"


def test_a_burst_becomes_one_request_and_a_later_change_is_sent_after_the_window_not_dropped():
    sent: list[tuple[int, float]] = []
    done = threading.Event()

    def send(registry_id: int, queue: str) -> None:
        sent.append((registry_id, time.monotonic()))
        if len(sent) == 3:
            done.set()

    coalescer = Coalescer(send, window=0.5, lookup=lambda ids: dict.fromkeys(ids, "q")).start()
    try:
        for _ in range(20):
            coalescer.request(1, "deleted")
        coalescer.request(2, "deleted")
        deadline = time.monotonic() + 5
        while len(sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sorted(rid for rid, _ in sent) == [1, 2]
        coalescer.request(1, "readiness changed")  # inside registry 1's window
        assert done.wait(5)
    finally:
        coalescer.stop()
    first, last = sent[0][1], sent[2][1]
    assert [rid for rid, _ in sent].count(1) == 2
    assert last - first >= 0.5  # sent at the end of the window


def test_registries_gone_or_deleted_get_no_request():
    sent: list[int] = []
    coalescer = Coalescer(lambda rid, q: sent.append(rid), window=0.1, lookup=lambda ids: {}).start()
    try:
        coalescer.request(3, "deleted")
        time.sleep(0.4)
    finally:
        coalescer.stop()
    assert sent == []
