"""The docker compose stack is wired right (Docker cannot run here, so its file is checked), and production
settings pass Django's deployment checks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SERVICES = ("migrate", "web", "worker", "beat")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_whole_stack_with_health_checks_and_volumes():
    services = compose()["services"]
    assert set(services) >= {"postgres", "redis", "prometheus", "web", "worker", "beat"}
    for name in ("postgres", "redis", "prometheus", "web", "worker"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    declared = set(compose()["volumes"])
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                target = ROOT / source
                assert target.exists() or source == "./deploy/metrics-token", (
                    f"{name} mounts missing {source}"
                )
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_console_services_share_one_image_and_wiring():
    services = compose()["services"]
    images = {services[name]["image"] for name in CONSOLE_SERVICES}
    assert images == {"harbor-console:latest"}
    for name in CONSOLE_SERVICES:
        env = services[name]["environment"]
        assert env["HARBORCONSOLE_ENV"] == "production"
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"].startswith("redis://redis:6379/")
        assert env["PROMETHEUS_URL"] == "http://prometheus:9090"
        for dependency, condition in services[name]["depends_on"].items():
            assert dependency in services
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency]
    assert services["worker"]["command"][:4] == ["celery", "-A", "harborconsole", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "harborconsole", "beat"]
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_variable_compose_sets_is_read_by_the_settings():
    settings_text = (ROOT / "harborconsole" / "settings.py").read_text()
    env = compose()["services"]["web"]["environment"]
    for variable in env:
        assert re.search(rf'"{variable}"', settings_text) or variable == "METRICS_TOKEN", variable


def test_dockerfile_ships_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("harborconsole", "provisioning", "monitoring", "kubeemulator", "templates", "static"):
        assert f"COPY {package} ./{package}" in dockerfile
    assert "RUN HARBORCONSOLE_ENV=production SECRET_KEY=" in dockerfile, (
        "collectstatic must use production storage"
    )


def test_production_collectstatic_writes_the_manifest(tmp_path):
    """Production serves static files through a manifest (hashed names); the image builds it as the Dockerfile does."""
    env = {
        "PATH": os.environ["PATH"],
        "HARBORCONSOLE_ENV": "production",
        "SECRET_KEY": "collectstatic-build-step-only",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "build.invalid",
        "HARBORCONSOLE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "harborconsole.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A complete production environment (keys, hosts, database), plus ``extra``."""
    return {
        "PATH": os.environ["PATH"],
        "HARBORCONSOLE_ENV": "production",
        "SECRET_KEY": Fernet.generate_key().decode() * 2,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "console.example.com",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
        "HARBORCONSOLE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "harborconsole.settings",
        **extra,
    }


def test_production_settings_pass_check_deploy(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_keys(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HARBORCONSOLE_ENV": "production",
        "HARBORCONSOLE_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "harborconsole.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY is required in production" in result.stderr
