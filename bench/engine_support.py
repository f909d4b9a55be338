"""Servers the engine benchmarks run as processes of their own, so their work never shares the bench's GIL.

``running_emulator()`` starts ``python -m kubeemulator`` on a free port and yields an ``EmulatorProcess`` whose
counters are read over the emulator's control API (``/_emulator/stats``). ``running_s3()`` starts ``moto_server``
with IAM authentication on and an admin user, as the tests' ``s3_server`` fixture does in a thread.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from tests.fixtures.services import SHARED_POSTGRES, S3Server

ROOT = Path(__file__).resolve().parent.parent
ADMIN_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'


@dataclass
class EmulatorProcess:
    url: str
    process: subprocess.Popen[bytes]

    def stats(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_emulator/stats", timeout=10)
        response.raise_for_status()
        return dict(response.json())

    def reset_stats(self) -> None:
        requests.post(f"{self.url}/_emulator/stats/reset", timeout=10).raise_for_status()


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """Terminate ``process``, killing it if it has not exited after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def _serving(command: list[str], probe: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` until the block ends; ready once ``probe`` answers."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(probe, timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{command[0]} did not start") from None
                time.sleep(0.05)
        yield process
    finally:
        _stop(process, 10)


@contextmanager
def running_emulator(ready_delay: float = 0.0) -> Iterator[EmulatorProcess]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "kubeemulator", "--port", str(port), "--quiet"]
    with _serving([*command, "--ready-delay", str(ready_delay)], f"{url}/healthz") as process:
        yield EmulatorProcess(url, process)


@dataclass(frozen=True)
class S3Process(S3Server):
    pid: int = 0


@contextmanager
def running_s3() -> Iterator[S3Process]:
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = str(Path(sys.executable).with_name("moto_server"))
    with _serving([moto, "-H", "127.0.0.1", "-p", str(port)], f"{endpoint}/moto-api/data.json") as process:
        iam = boto3.session.Session().client(
            "iam",
            endpoint_url=endpoint,
            region_name="eu-west-1",
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
        )
        iam.create_user(UserName="console-admin")
        iam.put_user_policy(UserName="console-admin", PolicyName="everything", PolicyDocument=ADMIN_POLICY)
        key = iam.create_access_key(UserName="console-admin")["AccessKey"]
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=5).raise_for_status()
        yield S3Process(endpoint, "eu-west-1", key["AccessKeyId"], key["SecretAccessKey"], process.pid)


def shared_services(s3: Any) -> dict[str, Any]:
    """A cluster's shared-service fields: the machine's PostgreSQL and the running moto ``s3``."""
    return {
        "database_admin_url": SHARED_POSTGRES,
        "s3_endpoint": s3.endpoint,
        "s3_region": s3.region,
        "s3_access_key": s3.access_key,
        "s3_secret_key": s3.secret_key,
    }


@contextmanager
def running_watcher(cluster_id: int, log_path: Path, timeout: float = 600.0) -> Iterator[float]:
    """``manage.py watch_clusters`` as its own process (the bench's database and Redis) until the block ends;
    yields the seconds it took to sync the watch cache of ``cluster_id`` (one LIST per kind, then watches)."""
    from provisioning.watch import cache_synced
    from tests.fixtures.celery_worker import worker_env

    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "watch_clusters"],
            cwd=ROOT,
            env=worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        started = time.monotonic()
        while not cache_synced(cluster_id):
            if process.poll() is not None or time.monotonic() - started > timeout:
                raise RuntimeError(f"the watcher did not sync the cache; see {log_path}")
            time.sleep(0.1)
        yield time.monotonic() - started
    finally:
        _stop(process, 20)
