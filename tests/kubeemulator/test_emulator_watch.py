"""Watches as kube-apiserver serves them: a chunked stream of events after a resourceVersion, bookmarks, 410 Gone.

They work with the official client's ``watch.Watch().stream`` and with a plain streaming GET, see what the simulated
controllers do without anyone reading, end cleanly when the server stops, and hundreds of them do not starve it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from kubeemulator import KubeEmulator
from tests.kubeemulator.emulator_helpers import after, deployment


def config_map(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "data": {"k": "v"}}


class Stream:
    """A plain HTTP/1.1 streaming GET of a watch on a socket, its chunks decoded as they arrive."""

    def __init__(self, url: str, path: str) -> None:
        parts = urlsplit(url)
        self.socket = socket.create_connection((parts.hostname, parts.port or 80), timeout=30)
        request = f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}\r\nAccept: application/json\r\n\r\n"
        self.socket.sendall(request.encode())
        self.reader = self.socket.makefile("rb")
        self.status = int(self.reader.readline().split()[1])
        self.headers: dict[str, str] = {}
        while (line := self.reader.readline().strip()) != b"":
            name, _, value = line.decode().partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def events(self, count: int | None = None) -> list[dict]:
        """Events until ``count`` of them came or the stream ended (its last, empty chunk)."""
        found: list[dict] = []
        while count is None or len(found) < count:
            size = int(self.reader.readline().strip() or b"0", 16)
            if size == 0:
                break
            found.append(json.loads(self.reader.read(size)))
            self.reader.readline()
        return found

    def close(self) -> None:
        self.reader.close()
        self.socket.close()


def test_the_official_clients_watch_sees_every_change_in_order(core, namespace):
    version = core.list_namespaced_config_map(namespace).metadata.resource_version

    def change() -> None:
        core.create_namespaced_config_map(namespace, config_map("a"))
        core.patch_namespaced_config_map("a", namespace, {"data": {"k": "w"}})
        core.delete_namespaced_config_map("a", namespace)

    after(0.2, change)
    seen = [
        (event["type"], event["object"].metadata.name, event["object"].data)
        for event in watch.Watch().stream(
            core.list_namespaced_config_map, namespace, resource_version=version, timeout_seconds=1
        )
    ]

    assert seen == [("ADDED", "a", {"k": "v"}), ("MODIFIED", "a", {"k": "w"}), ("DELETED", "a", {"k": "w"})]


def test_a_plain_streaming_get_of_every_namespace(core, emulator, namespace):
    core.create_namespace({"metadata": {"name": "tenant-b"}})
    core.create_namespaced_config_map(namespace, config_map("first"))
    stream = Stream(emulator.url, "/api/v1/configmaps?watch=1&timeoutSeconds=1")
    assert stream.status == 200
    assert stream.headers["transfer-encoding"] == "chunked"
    after(0.2, lambda: core.create_namespaced_config_map("tenant-b", config_map("second")))

    events = stream.events()

    assert [
        (e["type"], e["object"]["metadata"]["namespace"], e["object"]["metadata"]["name"]) for e in events
    ] == [
        ("ADDED", namespace, "first"),
        ("ADDED", "tenant-b", "second"),
    ]
    assert all(e["object"]["kind"] == "ConfigMap" for e in events)
    stream.close()


def test_objects_moving_in_and_out_of_a_selector(core, emulator, namespace):
    version = core.list_namespaced_config_map(namespace).metadata.resource_version
    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=true&labelSelector=tier%3Dweb&resourceVersion={version}"
    stream = Stream(emulator.url, path + "&timeoutSeconds=2")
    core.create_namespaced_config_map(namespace, config_map("a", tier="db"))
    core.patch_namespaced_config_map("a", namespace, {"metadata": {"labels": {"tier": "web"}}})
    core.patch_namespaced_config_map("a", namespace, {"data": {"k": "w"}})
    core.patch_namespaced_config_map("a", namespace, {"metadata": {"labels": {"tier": "db"}}})

    events = stream.events(3)

    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)
    stream.close()


def test_a_field_selector_narrows_to_one_object(core, emulator, namespace):
    stream = Stream(
        emulator.url,
        f"/api/v1/namespaces/{namespace}/configmaps?watch=1&fieldSelector=metadata.name%3Db&timeoutSeconds=1",
    )
    for name in ("a", "b", "c"):
        core.create_namespaced_config_map(namespace, config_map(name))

    assert [e["object"]["metadata"]["name"] for e in stream.events()] == ["b"]
    stream.close()


def test_bookmarks_only_when_asked_for(core, namespace):
    with KubeEmulator(bookmark_interval=0.2, bare=True) as emulator:
        api: Any = client.CoreV1Api(client.ApiClient(emulator.configuration()))
        api.create_namespace({"metadata": {"name": "t"}})
        base = "/api/v1/namespaces/t/configmaps?watch=1&timeoutSeconds=1"

        with_bookmarks = Stream(emulator.url, base + "&allowWatchBookmarks=true").events()
        without = Stream(emulator.url, base).events()

        assert len(with_bookmarks) >= 3 and {e["type"] for e in with_bookmarks} == {"BOOKMARK"}
        marker = with_bookmarks[0]["object"]
        assert (marker["kind"], marker["apiVersion"]) == ("ConfigMap", "v1")
        assert int(marker["metadata"]["resourceVersion"]) == emulator.store.resource_version
        assert without == []


def test_a_version_older_than_the_history_is_410_gone():
    with KubeEmulator(watch_history=5, bare=True) as emulator:
        api: Any = client.CoreV1Api(client.ApiClient(emulator.configuration()))
        api.create_namespace({"metadata": {"name": "t"}})
        old = api.list_namespaced_config_map("t").metadata.resource_version
        for n in range(10):
            api.create_namespaced_config_map("t", config_map(f"c{n}"))

        (error,) = Stream(
            emulator.url, f"/api/v1/namespaces/t/configmaps?watch=1&resourceVersion={old}"
        ).events()

        assert error["type"] == "ERROR"
        status = error["object"]
        assert (status["kind"], status["code"], status["reason"]) == ("Status", 410, "Expired")
        assert status["message"].startswith(f"too old resource version: {old} (")
        with pytest.raises(ApiException) as caught:
            list(
                watch.Watch().stream(
                    api.list_namespaced_config_map, "t", resource_version=old, timeout_seconds=1
                )
            )
        assert caught.value.status == 410


def test_controllers_changes_reach_watches_without_any_read():
    with (
        KubeEmulator(ready_delay=0.5, namespace_drain_delay=0.5) as emulator,
        client.ApiClient(emulator.configuration()) as api,
    ):
        core: Any = client.CoreV1Api(api)
        apps: Any = client.AppsV1Api(api)
        core.create_namespace({"metadata": {"name": "t"}})
        version = apps.list_namespaced_deployment("t").metadata.resource_version
        deployments = Stream(
            emulator.url,
            f"/apis/apps/v1/namespaces/t/deployments?watch=1&resourceVersion={version}&timeoutSeconds=3",
        )
        namespaces = Stream(
            emulator.url, "/api/v1/namespaces?watch=1&fieldSelector=metadata.name%3Dt&timeoutSeconds=3"
        )
        apps.create_namespaced_deployment("t", deployment(namespace="t", replicas=2))
        started = time.monotonic()

        available = None
        while available is None and (events := deployments.events(1)):
            if (events[0]["object"].get("status") or {}).get("availableReplicas") == 2:
                available = time.monotonic() - started
        assert available is not None and available >= 0.4
        core.delete_namespace("t")
        assert [e["type"] for e in namespaces.events()][-1] == "DELETED"


def test_hundreds_of_watches_do_not_starve_the_server(core, emulator, namespace):
    count = 300
    streams: list[Stream] = []
    opened = threading.Barrier(count + 1, timeout=60)
    received: list[int] = [0] * count
    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=30"

    def follow(index: int) -> None:
        stream = Stream(emulator.url, path)
        streams.append(stream)
        opened.wait()
        received[index] = len(stream.events(1))

    threads = [threading.Thread(target=follow, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    opened.wait()
    assert emulator.stats()["open_watches"] == count

    listed = [len(core.list_namespaced_config_map(namespace).items) for _ in range(20)]
    core.create_namespaced_config_map(namespace, config_map("hello"))
    for thread in threads:
        thread.join(timeout=30)

    assert listed == [0] * 20 and received == [1] * count
    emulator.stop()
    deadline = time.monotonic() + 10
    while emulator.stats()["open_watches"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emulator.stats()["open_watches"] == 0
    for stream in streams:
        stream.close()


def test_watches_are_counted_apart_and_can_be_faulted(core, emulator, namespace):
    emulator.reset_stats()
    emulator.fail_next(1, code=503, verbs=["read"], kinds=["ConfigMap"])
    with pytest.raises(ApiException) as caught:
        list(watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=1))
    assert caught.value.status == 503
    list(watch.Watch().stream(core.list_namespaced_config_map, namespace, timeout_seconds=1))

    stats = emulator.stats()
    assert stats["by_verb"] == {"watch": 2} and (stats["watches"], stats["reads"], stats["writes"]) == (
        2,
        0,
        0,
    )
