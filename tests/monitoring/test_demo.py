"""``make run`` gets a Prometheus whose history matches the demo fleet in the database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from monitoring import demo
from tests import factories

pytestmark = [pytest.mark.prometheus]


def test_demo_prometheus_serves_history_for_every_live_registry(db, tmp_path: Path) -> None:
    registries = [factories.registry(plan=factories.plan(p)) for p in ("s", "m", "l")]
    children: list[subprocess.Popen[bytes]] = []
    commands: list[list[str]] = []

    def spawn(name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        children.append(child)
        commands.append(argv)
        return child

    try:
        url = demo.start_demo_prometheus(spawn, tmp_path)
        assert url and commands[0][0].endswith("prometheus")
        query = "sum by (namespace) (harbor_project_quota_usage_byte)"
        body = requests.get(f"{url}/api/v1/query", params={"query": query}, timeout=10).json()
        storage = {item["metric"]["namespace"]: float(item["value"][1]) for item in body["data"]["result"]}
        assert set(storage) == {r.namespace for r in registries}
        for registry in registries:
            assert 0 < storage[registry.namespace] < registry.effective().storage_quota_gib * 1024**3
        week_ago = "sum by (namespace) (harbor_project_quota_usage_byte offset 7d)"
        week = requests.get(f"{url}/api/v1/query", params={"query": week_ago}, timeout=10).json()["data"][
            "result"
        ]
        assert len(week) == 3  # a week of history for the growth and forecast figures
    finally:
        for child in children:
            child.terminate()
            child.wait(timeout=10)


def test_without_prometheus_installed_the_demo_says_so(db, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PROMETHEUS_BIN", "")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert demo.start_demo_prometheus(lambda *a, **k: pytest.fail("nothing to spawn"), tmp_path) == ""
