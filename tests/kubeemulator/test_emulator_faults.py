"""Fault injection: seeded error rates, chosen codes, verb and kind filters, "fail the next N"."""

from __future__ import annotations

import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from tests.kubeemulator.emulator_helpers import deployment


def outcomes(core, namespace, count):
    results = []
    for _ in range(count):
        try:
            core.list_namespaced_config_map(namespace)
            results.append(200)
        except ApiException as error:
            results.append(error.status)
    return results


def test_error_rate_is_repeatable_with_a_seed(core, emulator, namespace):
    emulator.set_faults(error_rate=0.5, codes=(500, 503), seed=7)
    first = outcomes(core, namespace, 30)
    emulator.set_faults(error_rate=0.5, codes=(500, 503), seed=7)
    second = outcomes(core, namespace, 30)

    assert first == second
    assert {500, 503, 200} <= set(first)
    assert emulator.stats()["injected_faults"] == 2 * sum(1 for code in first if code != 200)


def test_faults_can_target_writes_of_one_kind(core, apps, emulator, namespace):
    emulator.set_faults(codes=(409,), verbs=("write",), kinds=("Deployment",))

    with pytest.raises(ApiException) as caught:
        apps.create_namespaced_deployment(namespace, deployment())
    assert caught.value.status == 409
    assert apps.list_namespaced_deployment(namespace).items == []
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ok")))

    emulator.clear_faults()
    apps.create_namespaced_deployment(namespace, deployment())


def test_fail_the_next_n_matching_requests(core, emulator, namespace):
    emulator.fail_next(2, code=429, verbs=("list",))

    assert outcomes(core, namespace, 4) == [429, 429, 200, 200]
    assert emulator.faults_config()["rules"] == []


def test_an_injected_error_is_a_status_object(core, emulator, namespace):
    emulator.fail_next(1, code=503)
    with pytest.raises(ApiException) as caught:
        core.read_namespace(namespace)
    assert caught.value.status == 503
    assert json.loads(caught.value.body or "{}")["reason"] == "ServiceUnavailable"


def test_latency_only_rule_never_fails(core, emulator, namespace):
    emulator.set_faults(error_rate=0, latency_ms=1)
    assert outcomes(core, namespace, 3) == [200, 200, 200]
    assert emulator.faults_config()["rules"][0]["latency_ms"] == 1
