"""Rotating a managed Redis's password: a Redis started from the rendered configuration accepts the old and the new
password while the rotation is under way, and only the new one once it completes."""

from __future__ import annotations

import base64
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from provisioning.choices import CacheMode, Via
from provisioning.external import complete_rotations, prepare_dependencies
from provisioning.models import ReconcileRun, Registry
from provisioning.reconcile.spec import desired_objects, load_registry
from provisioning.services.rotation import rotate_credentials
from tests.external.conftest import fresh, registry_with, s3_fields
from tests.fixtures.services import free_port, wait_for_port


def rendered_redis_conf(registry: Registry) -> str:
    loaded = load_registry(registry.pk)
    assert loaded is not None
    secret = next(
        obj
        for obj in desired_objects(loaded)
        if obj["kind"] == "Secret" and obj["metadata"]["name"] == f"{registry.name}-redis"
    )
    return base64.b64decode(secret["data"]["redis.conf"]).decode()


@contextmanager
def redis_started_from(conf: str, directory: Path) -> Iterator[int]:
    """``redis-server`` on a free local port with the rendered configuration (address and data folder aside)."""
    binary = shutil.which("redis-server")
    if not binary:
        pytest.fail("redis-server is needed: apt-get install redis-server")
    port = free_port()
    local = {"bind": "bind 127.0.0.1", "port": f"port {port}", "dir": f"dir {directory}"}
    lines = [local.get(line.split(" ", 1)[0], line) for line in conf.splitlines()]
    path = directory / "redis.conf"
    path.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen([binary, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, timeout=5)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def accepts(port: int, password: str) -> bool:
    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2).ping())
    except redis.AuthenticationError:
        return False


def test_the_managed_redis_accepts_both_passwords_until_the_rotation_completes(
    db, postgres_admin_url, s3_server, tmp_path, django_capture_on_commit_callbacks
):
    registry = registry_with(CacheMode.MANAGED, database_admin_url=postgres_admin_url, **s3_fields(s3_server))
    assert prepare_dependencies(registry).ready
    old = fresh(registry.cache).password
    ReconcileRun.objects.filter(registry=registry).delete()
    rotate_credentials(registry, ["cache"], actor=None, via=Via.SYSTEM)
    prepare_dependencies(registry)
    rotating = fresh(registry.cache)
    new = rotating.password
    assert rotating.rotation_started_at is not None and rotating.previous_password == old != new

    (tmp_path / "during").mkdir()
    with redis_started_from(rendered_redis_conf(registry), tmp_path / "during") as port:
        assert accepts(port, new), "pods already rolled use the new password"
        assert accepts(port, old), "pods not yet rolled keep the old one"

    with django_capture_on_commit_callbacks(execute=False):
        assert complete_rotations(registry) == ["cache"]
    done = fresh(registry.cache)
    assert done.previous_password == "" and done.rotation_started_at is None

    (tmp_path / "after").mkdir()
    with redis_started_from(rendered_redis_conf(registry), tmp_path / "after") as port:
        assert accepts(port, new)
        assert not accepts(port, old), "the old password is gone once every pod runs with the new one"
