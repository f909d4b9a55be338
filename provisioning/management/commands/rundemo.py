"""``manage.py rundemo``: the console on embedded defaults with a demo fleet, for ``make run``.

Starts, as child processes: the Kubernetes API emulator (the demo cluster is simulated and the UI says so), a local
S3 server for the registries' object storage, Prometheus with generated history (when the Debian package is
installed), a Celery worker and the beat scheduler on the embedded broker, the cluster watcher
(``watch_clusters``), and the web server. Stops them all on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from provisioning import demo


def free_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def postgres_admin_url() -> str:
    """The local PostgreSQL service for the tenants' databases, when one answers."""
    url = os.environ.get("DEMO_DATABASE_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        psycopg.connect(url, connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure: the demo runs without it and says so
        return ""
    return url


class Command(BaseCommand):
    help = "Run the console with a worker, the scheduler, a simulated cluster and a demo fleet."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self.run(options["host"], options["port"])
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.stop_children()

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log_dir = Path(settings.VAR_DIR) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        log = (log_dir / f"{name}.log").open("ab")
        child = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )
        self.children.append((name, child))
        return child

    def stop_children(self) -> None:
        for _, child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for _, child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.stdout.write("Stopped.")

    def run(self, host: str, port: int) -> None:
        python = sys.executable
        call_command("migrate", interactive=False, verbosity=0)

        kube_port = free_port(18081)
        self.spawn(
            "kube-emulator", [python, "-m", "kubeemulator", "--port", str(kube_port), "--ready-delay", "4"]
        )
        s3_port = free_port(18082)
        self.spawn("s3", [python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)])
        for needed in (kube_port, s3_port):
            if not wait_for_port(needed):
                raise SystemExit(
                    f"A demo service did not start on port {needed}: see {settings.VAR_DIR}/logs/."
                )

        database_admin_url = postgres_admin_url()
        cluster = demo.ensure_cluster(
            api_url=f"http://127.0.0.1:{kube_port}",
            database_admin_url=database_admin_url,
            s3_endpoint=f"http://127.0.0.1:{s3_port}",
        )
        demo.ensure_fleet(cluster)
        password = demo.ensure_admin()

        env = {"SWEEP_INTERVAL_SECONDS": os.environ.get("SWEEP_INTERVAL_SECONDS", "60")}
        prometheus_url = self.start_prometheus()
        if prometheus_url:
            env["PROMETHEUS_URL"] = prometheus_url
        celery = [python, "-m", "celery", "-A", "harborconsole"]
        self.spawn("worker", [*celery, "worker", "-Q", "default", "--concurrency", "2", "-l", "INFO"], env)
        self.spawn("beat", [*celery, "beat", "-l", "INFO"], env)
        self.spawn("watcher", [python, "manage.py", "watch_clusters"], env)
        self.spawn("web", [python, "manage.py", "runserver", f"{host}:{port}", "--noreload"], env)
        if not wait_for_port(port, timeout=30):
            raise SystemExit(
                f"The web server did not start on port {port}: see {settings.VAR_DIR}/logs/web.log."
            )

        self.stdout.write(self.style.SUCCESS(f"\nHarbor Console is running on http://{host}:{port}/"))
        self.stdout.write(f"  log in as admin / {password}   (also: operator, viewer — same password)")
        self.stdout.write(f"  simulated cluster (Kubernetes API emulator): http://127.0.0.1:{kube_port}")
        self.stdout.write(
            f"  tenants' PostgreSQL: {database_admin_url or 'none reachable — databases will show as unreachable'}"
        )
        self.stdout.write(f"  Prometheus: {prometheus_url or 'not installed — monitoring pages will say so'}")
        self.stdout.write(f"  logs: {settings.VAR_DIR}/logs/   Stop with Ctrl-C.\n")
        while True:
            for name, child in self.children:
                if child.poll() is not None:
                    raise SystemExit(f"A demo process ({name}) stopped: see {settings.VAR_DIR}/logs/.")
            time.sleep(1)

    def start_prometheus(self) -> str:
        """Prometheus loaded with generated history for the demo namespaces, or '' when not installed."""
        try:
            from monitoring import demo as monitoring_demo  # type: ignore[attr-defined,unused-ignore]
        except ImportError:
            return ""
        return monitoring_demo.start_demo_prometheus(self.spawn, Path(settings.VAR_DIR) / "prometheus")
