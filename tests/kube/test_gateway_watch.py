"""``KubeGateway.list_with_version`` and ``KubeGateway.watch`` against the emulator: what an informer builds on."""

from __future__ import annotations

import time

import pytest

from kubeemulator import KubeEmulator
from provisioning.kube import ClusterAccess, KubeGateway, KubeUnreachable, KubeWatchExpired, WatchEvent
from tests.kubeemulator.emulator_helpers import after

MANAGER = "harbor-console"


def config_map(name: str, ns: str = "team", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"k": "v"},
    }


@pytest.fixture
def emulator():
    with KubeEmulator(bookmark_interval=0.2) as running:
        yield running


@pytest.fixture
def gateway(emulator):
    gateway = KubeGateway(ClusterAccess(api_url=emulator.url), field_manager=MANAGER)
    gateway.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    yield gateway
    gateway.close()


def changes(events: list[WatchEvent]) -> list[tuple[str, str]]:
    return [(e.type, e.object["metadata"]["name"]) for e in events if not e.bookmark]


def test_a_watch_from_a_lists_version_sees_every_later_change_in_order(gateway):
    gateway.apply(config_map("before", mine="yes"))
    items, version = gateway.list_with_version("v1", "ConfigMap", namespace="team", label_selector="mine=yes")
    assert [i["metadata"]["name"] for i in items] == ["before"] and int(version) > 0

    def change() -> None:
        gateway.apply(config_map("after", mine="yes"))
        gateway.apply({**config_map("after", mine="yes"), "data": {"k": "w"}})
        gateway.apply(config_map("other", mine="no"))
        gateway.delete("v1", "ConfigMap", "before", "team")

    after(0.2, change)
    events = list(
        gateway.watch(
            "v1",
            "ConfigMap",
            namespace="team",
            label_selector="mine=yes",
            resource_version=version,
            timeout_seconds=2,
        )
    )

    assert changes(events) == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "before")]
    versions = [int(e.resource_version) for e in events if not e.bookmark]
    assert versions == sorted(versions) and versions[0] > int(version)
    assert all(e.object["kind"] == "ConfigMap" for e in events if not e.bookmark)
    bookmarks = [e for e in events if e.bookmark]
    assert bookmarks and int(bookmarks[-1].resource_version) >= versions[-1]


def test_a_watch_without_a_version_starts_with_what_exists(gateway):
    gateway.apply(config_map("a"))
    gateway.apply(config_map("b"))

    events = list(gateway.watch("v1", "ConfigMap", namespace="team", timeout_seconds=1, bookmarks=False))

    assert changes(events) == [("ADDED", "a"), ("ADDED", "b")]


def test_a_version_the_server_no_longer_keeps_raises_expired_and_a_relist_recovers():
    with KubeEmulator(watch_history=3, bare=True) as emulator:
        gateway = KubeGateway(ClusterAccess(api_url=emulator.url), field_manager=MANAGER)
        gateway.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
        _, old = gateway.list_with_version("v1", "ConfigMap", namespace="team")
        for n in range(5):
            gateway.apply(config_map(f"cm-{n}"))

        with pytest.raises(KubeWatchExpired) as expired:
            list(gateway.watch("v1", "ConfigMap", namespace="team", resource_version=old, timeout_seconds=1))
        assert (expired.value.status, expired.value.reason) == (410, "Expired")
        assert "too old resource version" in expired.value.message

        items, fresh = gateway.list_with_version("v1", "ConfigMap", namespace="team")
        assert len(items) == 5
        after(0.2, lambda: gateway.apply(config_map("cm-5")))
        events = gateway.watch("v1", "ConfigMap", namespace="team", resource_version=fresh, timeout_seconds=1)
        assert changes(list(events)) == [("ADDED", "cm-5")]
        gateway.close()


def test_a_watch_counts_apart_from_lists(gateway, emulator):
    emulator.reset_stats()
    list(gateway.watch("v1", "ConfigMap", namespace="team", timeout_seconds=1, bookmarks=False))
    gateway.list("v1", "ConfigMap", namespace="team")

    stats = emulator.stats()
    assert stats["by_kind"]["ConfigMap"] == {"watch": 1, "list": 1}
    assert (stats["watches"], stats["reads"], stats["writes"], stats["open_watches"]) == (1, 1, 0, 0)


def test_closing_the_generator_ends_the_watch(gateway, emulator):
    events = gateway.watch("v1", "ConfigMap", namespace="team", timeout_seconds=60, bookmarks=False)
    after(0.2, lambda: gateway.apply(config_map("a")))
    first = next(events)
    assert first.type == "ADDED"
    events.close()

    deadline = time.monotonic() + 10
    while emulator.stats()["open_watches"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emulator.stats()["open_watches"] == 0


def test_a_stopping_server_ends_the_watch_cleanly(emulator, gateway):
    after(0.3, emulator.stop)
    started = time.monotonic()
    try:
        list(gateway.watch("v1", "ConfigMap", namespace="team", timeout_seconds=60))
    except KubeUnreachable:
        pass
    assert time.monotonic() - started < 10


def test_an_unreachable_server():
    gateway = KubeGateway(ClusterAccess(api_url="http://127.0.0.1:1"), field_manager=MANAGER, timeout=2)
    with pytest.raises(KubeUnreachable):
        list(gateway.watch("v1", "ConfigMap", namespace="team", timeout_seconds=1))
