"""The watcher as a process: ``manage.py watch_clusters`` fills the cache for the workers and stops on SIGTERM;
docker compose runs it as the ``watcher`` service with the console's wiring."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from provisioning.watch import cache_synced
from tests.engine.helpers import wait_for
from tests.fixtures.celery_worker import worker_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_watch_clusters_runs_until_sigterm_and_feeds_the_cache(emulated_cluster, tmp_path):
    log = tmp_path / "watcher.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "watch_clusters"],
            cwd=settings.BASE_DIR,
            env=worker_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: cache_synced(emulated_cluster.pk), 30, "the watcher process to sync the cache")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
    assert not cache_synced(emulated_cluster.pk)  # a stopped watcher is not trusted a moment longer
    assert "Stopped." in log.read_text()


def test_docker_compose_runs_the_watcher_beside_the_workers():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    watcher = services["watcher"]
    assert watcher["command"] == ["python", "manage.py", "watch_clusters"]
    assert watcher["image"] == services["worker"]["image"]
    assert watcher["environment"]["REDIS_URL"] == services["worker"]["environment"]["REDIS_URL"]
    assert watcher["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
