"""Request accounting, bearer-token authentication, discovery for the dynamic client, the control API, the CLI."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
from pathlib import Path

import pytest
from kubernetes import client, dynamic
from kubernetes.client.rest import ApiException

from kubeemulator import KubeEmulator
from tests.kubeemulator.emulator_helpers import APPLY, admin, deployment


def test_stats_count_verbs_kinds_and_mutations(core, apps, emulator, namespace):
    emulator.reset_stats()
    apps.create_namespaced_deployment(namespace, deployment())
    apps.read_namespaced_deployment("core", namespace)
    apps.list_namespaced_deployment(namespace)
    body = deployment()
    for _ in range(2):
        apps.patch_namespaced_deployment("core", namespace, body, field_manager="m", _content_type=APPLY)
    apps.patch_namespaced_deployment("core", namespace, {"spec": {"replicas": 5}})
    apps.delete_namespaced_deployment("core", namespace)
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("nope", namespace)

    stats = emulator.stats()
    assert stats["by_verb"] == {"create": 1, "get": 2, "list": 1, "apply": 2, "patch": 1, "delete": 1}
    assert stats["by_kind"]["Deployment"] == {
        "create": 1,
        "get": 1,
        "list": 1,
        "apply": 2,
        "patch": 1,
        "delete": 1,
    }
    assert (stats["total"], stats["reads"], stats["writes"]) == (8, 3, 5)
    # the create, the first apply (takes field ownership), the patch and the delete changed something
    assert stats["mutations"] == 4
    assert stats["responses_by_code"]["404"] == 1

    emulator.reset_stats()
    assert emulator.stats()["total"] == 0


def test_token_authentication():
    with KubeEmulator(token="s3cret") as emulator:
        good = client.CoreV1Api(client.ApiClient(emulator.configuration()))
        good.list_namespace()
        for token in (None, "wrong"):
            configuration = client.Configuration(host=emulator.url)
            if token:
                configuration.api_key = {"authorization": f"Bearer {token}"}
            with pytest.raises(ApiException) as caught:
                client.CoreV1Api(client.ApiClient(configuration)).list_namespace()
            assert caught.value.status == 401
        with pytest.raises(urllib.error.HTTPError) as refused:
            admin(emulator, "GET", "stats")
        assert refused.value.code == 401


def test_dynamic_client(dyn, namespace):
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    certificates = dyn.resources.get(api_version="cert-manager.io/v1", kind="Certificate")
    assert (deployments.namespaced, deployments.name, certificates.name) == (
        True,
        "deployments",
        "certificates",
    )
    assert "status" in deployments.subresources

    dyn.create(configmaps, namespace=namespace, body={"metadata": {"name": "a", "labels": {"app": "harbor"}}})
    dyn.create(configmaps, namespace=namespace, body={"metadata": {"name": "b", "labels": {"app": "other"}}})
    assert dyn.get(configmaps, name="a", namespace=namespace).metadata.labels.app == "harbor"
    listed = dyn.get(configmaps, namespace=namespace, label_selector="app=harbor")
    assert [item.metadata.name for item in listed.items] == ["a"]

    applied = dyn.server_side_apply(deployments, body=deployment(), field_manager="harbor-console")
    assert applied.metadata.generation == 1

    dyn.delete(configmaps, name="a", namespace=namespace)
    with pytest.raises(dynamic.exceptions.NotFoundError):
        dyn.get(configmaps, name="a", namespace=namespace)


def test_control_api_over_http(core, apps, emulator, namespace):
    apps.create_namespaced_deployment(namespace, deployment())
    assert admin(emulator, "GET", "stats")["by_verb"]["create"] == 2
    assert admin(emulator, "POST", "stats/reset")["total"] == 0

    admin(emulator, "PUT", "faults", {"seed": 3, "rules": [{"count": 1, "codes": [503], "verbs": ["read"]}]})
    with pytest.raises(ApiException) as caught:
        core.list_namespace()
    assert caught.value.status == 503
    admin(emulator, "POST", "faults", {"error_rate": 1, "codes": [500], "kinds": ["Secret"]})
    assert len(admin(emulator, "GET", "faults")["rules"]) == 1
    assert admin(emulator, "DELETE", "faults")["rules"] == []

    assert admin(emulator, "PUT", "readiness", {"ready_delay": 2.5})["ready_delay"] == 2.5
    settings = admin(emulator, "PUT", "readiness", {"ready_delay": 0, "namespace_drain_delay": 4})
    assert (settings["ready_delay"], settings["namespace_drain_delay"]) == (0, 4)
    assert emulator.namespace_drain_delay == 4
    admin(emulator, "POST", "broken", {"namespace": namespace, "name": "core", "reason": "CrashLoopBackOff"})
    assert admin(emulator, "GET", "broken")["broken"][0]["reason"] == "CrashLoopBackOff"
    status = apps.read_namespaced_deployment("core", namespace).status
    assert status.available_replicas is None
    assert admin(emulator, "DELETE", f"broken?namespace={namespace}&name=core")["healed"] == 1

    dumped = admin(emulator, "GET", f"objects?kind=Deployment&namespace={namespace}")["items"]
    assert [(o["kind"], o["metadata"]["name"]) for o in dumped] == [("Deployment", "core")]
    everything = admin(emulator, "GET", "objects")["items"]
    assert ("Namespace", namespace) in {(o["kind"], o["metadata"]["name"]) for o in everything}
    admin(emulator, "POST", "reset")
    assert emulator.objects(namespace=namespace) == []
    assert namespace not in {ns["metadata"]["name"] for ns in emulator.objects("Namespace")}
    assert {ns["metadata"]["name"] for ns in emulator.objects("Namespace")} >= {"kube-system", "default"}


def test_cli_serves_until_sigterm():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kubeemulator",
            "--port",
            "0",
            "--ready-delay",
            "1",
            "--bare",
            "--namespace-drain-delay",
            "0",
            "--kubernetes-version",
            "v1.32.4",
        ],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"listening on (http://\S+)", line)
        assert match, line
        api_client = client.ApiClient(client.Configuration(host=match.group(1)))
        api = client.CoreV1Api(api_client)
        assert api.list_namespace().items == []  # bare
        assert "GET /api/v1/namespaces 200" in process.stderr.readline()
        api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="demo")))
        assert "POST /api/v1/namespaces 201" in process.stderr.readline()
        assert client.VersionApi(api_client).get_code().git_version == "v1.32.4"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        if process.stderr is not None:
            process.stderr.close()
