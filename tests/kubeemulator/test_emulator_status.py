"""The ``/status`` subresource: resource writes ignore status, status writes change only status."""

from __future__ import annotations

from kubernetes import client

from tests.kubeemulator.emulator_helpers import APPLY


def ingress(name="registry", host="a.example.com"):
    rule = client.V1IngressRule(host=host)
    return client.V1Ingress(metadata=client.V1ObjectMeta(name=name), spec=client.V1IngressSpec(rules=[rule]))


def load_balancer(ip):
    return {"loadBalancer": {"ingress": [{"ip": ip}]}}


def test_writes_to_the_resource_ignore_status(networking, namespace):
    body = ingress()
    body.status = client.V1IngressStatus(load_balancer=client.V1IngressLoadBalancerStatus(ingress=[]))
    created = networking.create_namespaced_ingress(namespace, body)
    assert created.status is None or created.status.load_balancer is None

    patched = networking.patch_namespaced_ingress(
        "registry", namespace, {"status": load_balancer("10.0.0.1")}
    )
    assert patched.status is None or patched.status.load_balancer is None
    assert patched.metadata.resource_version == created.metadata.resource_version


def test_writes_to_status_change_only_status(networking, namespace):
    networking.create_namespaced_ingress(namespace, ingress())

    patch = {"status": load_balancer("10.0.0.1"), "spec": {"rules": [{"host": "evil.example.com"}]}}
    patched = networking.patch_namespaced_ingress_status("registry", namespace, patch)
    assert patched.status.load_balancer.ingress[0].ip == "10.0.0.1"
    assert patched.spec.rules[0].host == "a.example.com"
    assert patched.metadata.generation == 1

    current = networking.read_namespaced_ingress_status("registry", namespace)
    current.status.load_balancer.ingress[0].ip = "10.0.0.2"
    current.spec.rules[0].host = "evil.example.com"
    replaced = networking.replace_namespaced_ingress_status("registry", namespace, current)
    assert replaced.status.load_balancer.ingress[0].ip == "10.0.0.2"
    assert replaced.spec.rules[0].host == "a.example.com"


def test_status_survives_a_full_replace(networking, namespace):
    networking.create_namespaced_ingress(namespace, ingress())
    networking.patch_namespaced_ingress_status("registry", namespace, {"status": load_balancer("10.0.0.1")})

    replaced = networking.replace_namespaced_ingress("registry", namespace, ingress(host="b.example.com"))

    assert replaced.spec.rules[0].host == "b.example.com"
    assert replaced.metadata.generation == 2
    assert replaced.status.load_balancer.ingress[0].ip == "10.0.0.1"


def test_apply_to_status(networking, namespace):
    networking.create_namespaced_ingress(namespace, ingress())
    body = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "registry"},
        "status": load_balancer("10.0.0.9"),
    }

    applied = networking.patch_namespaced_ingress_status(
        "registry", namespace, body, field_manager="ingress-controller", _content_type=APPLY
    )

    assert applied.status.load_balancer.ingress[0].ip == "10.0.0.9"
    entry = next(e for e in applied.metadata.managed_fields if e.manager == "ingress-controller")
    assert entry.subresource == "status"
