"""A real Prometheus over generated history, for the tests, the benchmark and the demo.

:func:`backfill` turns a :class:`~monitoring.history.History` into TSDB blocks with ``promtool tsdb
create-blocks-from openmetrics`` (one input file per two-hour block, so promtool reads each sample once);
:class:`LocalPrometheus` starts ``prometheus`` on those blocks on a free local port and stops it again.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import yaml

from monitoring.history import History


class PrometheusNotInstalled(RuntimeError):
    """The prometheus or promtool binary is missing."""


def binary(name: str) -> str:
    """Path of ``prometheus`` or ``promtool`` (``PROMETHEUS_BIN`` / ``PROMTOOL_BIN`` override it)."""
    override = os.environ.get(f"{name.upper()}_BIN")
    found = override or shutil.which(name)
    if not found:
        raise PrometheusNotInstalled(
            f"{name} is not installed: run `make system-deps` (Debian package `prometheus`) or set "
            f"{name.upper()}_BIN."
        )
    return found


def backfill(history: History, tsdb_dir: Path, work_dir: Path, jobs: int = 2) -> int:
    """Write ``history`` as TSDB blocks into ``tsdb_dir``; returns the number of blocks created."""
    promtool = binary("promtool")
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for start, text in history.openmetrics_windows():
        path = work_dir / f"window-{start}.om"
        path.write_text(text)
        files.append(path)

    def create(path: Path) -> None:
        result = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(path), str(tsdb_dir)],
            capture_output=True,
            text=True,
            check=False,
        )
        path.unlink()
        if result.returncode != 0:
            raise RuntimeError(f"promtool could not backfill {path.name}: {result.stderr.strip()[-500:]}")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(create, files))
    return len(files)


def backfill_rules(
    url: str, rules_text: str, start: int, end: int, tsdb_dir: Path, work_dir: Path, interval: int = 60
) -> int:
    """Evaluate recording rules over [start, end] against the Prometheus at ``url`` (``promtool tsdb
    create-blocks-from rules``) and add the resulting blocks to ``tsdb_dir``; returns how many were added.

    Prometheus serving ``tsdb_dir`` sees them after a restart. Rules are evaluated at ``start + k * interval``.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    rules = work_dir / "rules.yml"
    rules.write_text(rules_text)
    out = work_dir / "rule-blocks"
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run(
        [
            binary("promtool"), "tsdb", "create-blocks-from", "rules", "--quiet",
            f"--url={url}", f"--start={start}", f"--end={end}", f"--eval-interval={interval}s",
            f"--output-dir={out}", str(rules),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(
            f"promtool could not backfill the rules: {(result.stderr or result.stdout)[-500:]}"
        )
    blocks = [path for path in out.iterdir() if (path / "meta.json").exists()] if out.exists() else []
    for block in blocks:
        shutil.move(str(block), tsdb_dir / block.name)
    return len(blocks)


def copy_blocks(source: Path, target: Path) -> None:
    """Copy the immutable blocks of a TSDB (not its write-ahead log) to start another Prometheus on them."""
    target.mkdir(parents=True, exist_ok=True)
    for block in source.iterdir():
        if (block / "meta.json").exists():
            shutil.copytree(block, target / block.name)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll ``/-/ready`` until Prometheus answers 200 (False on timeout or when the process exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            if requests.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.05)
    return False


class LocalPrometheus:
    """One ``prometheus`` process serving ``tsdb_dir`` on 127.0.0.1 (evaluating ``rule_files``, as a deployment
    lists the console's recording rules)."""

    def __init__(
        self,
        tsdb_dir: Path,
        work_dir: Path,
        *,
        scrape_configs: list[dict[str, Any]] | None = None,
        scrape_interval: str = "15s",
        rule_files: list[Path] | None = None,
    ) -> None:
        self.tsdb_dir = tsdb_dir
        self.work_dir = work_dir
        self.scrape_configs = scrape_configs or []
        self.rule_files = rule_files or []
        self.scrape_interval = scrape_interval
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.work_dir / "prometheus.log"

    def command(self) -> list[str]:
        """Write the configuration, choose a free port, and return the command line that serves the TSDB."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        config = self.work_dir / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                {
                    "global": {"scrape_interval": self.scrape_interval, "evaluation_interval": "1m"},
                    "scrape_configs": self.scrape_configs,
                    "rule_files": [str(path) for path in self.rule_files],
                }
            )
        )
        self.port = free_port()
        return [
            binary("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={self.tsdb_dir}",
            "--storage.tsdb.retention.time=3650d",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]

    def start(self, timeout: float = 30.0) -> str:
        """Start Prometheus and wait until it answers ``/-/ready``; returns its URL."""
        argv = self.command()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        if not wait_ready(self.url, timeout, self.process):
            self.stop()
            raise RuntimeError(f"prometheus did not become ready within {timeout:.0f} s; see {self.log_path}")
        return self.url

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    def __enter__(self) -> LocalPrometheus:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
