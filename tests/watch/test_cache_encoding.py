"""Objects are stored deflated in the watch cache; what an older watcher wrote as plain JSON still reads."""

from __future__ import annotations

import json

from provisioning.watch.cache import decode, encode


def test_a_stored_object_reads_back_the_same_and_takes_less_room():
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "reg-core", "namespace": "ns", "labels": {f"k{i}": "value" for i in range(20)}},
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "core", "env": [{"name": "A", "value": "x"}] * 30}]}
            }
        },
    }
    stored = encode(obj)
    assert decode(stored) == obj
    assert len(stored) < len(json.dumps(obj, separators=(",", ":"))) / 3


def test_plain_json_as_an_older_watcher_wrote_it_still_reads():
    obj = {"kind": "ConfigMap", "metadata": {"name": "x"}}
    assert decode(json.dumps(obj).encode()) == obj
