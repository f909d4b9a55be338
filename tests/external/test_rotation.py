"""Credential rotation: an audited request, the new credential live beside the old, the old revoked only at the end."""

from __future__ import annotations

import psycopg
import pytest
from botocore.exceptions import ClientError

from provisioning.choices import CacheMode, DesiredState, RunStatus, StorageKind, Via
from provisioning.external import complete_rotations, prepare_dependencies
from provisioning.models import AuditEvent, Registry
from provisioning.services.errors import ActionRefused
from provisioning.services.rotation import rotate_credentials
from tests.external.conftest import connect_as, fresh, registry_with, s3_fields

pytestmark = pytest.mark.django_db


def test_database_rotation_keeps_the_old_role_working_until_completed(pg_registry, admin_user):
    prepare_dependencies(pg_registry)
    old = fresh(pg_registry.database)
    generation = pg_registry.generation

    run = rotate_credentials(pg_registry, ["database"], actor=admin_user, via=Via.API)

    assert run.status == RunStatus.QUEUED and run.registry_id == pg_registry.pk  # a queued run takes it along
    assert Registry.objects.get(pk=pg_registry.pk).generation == generation + 1
    requested = fresh(pg_registry.database)
    assert requested.rotation_requested_at is not None and requested.password == old.password

    report = prepare_dependencies(pg_registry)  # the reconcile the request queued

    new = fresh(pg_registry.database)
    assert report.item("database").ok, report.message
    assert new.username != old.username and new.password != old.password
    assert (new.previous_username, new.previous_password) == (old.username, old.password)
    assert new.rotation_started_at is not None and new.rotation_requested_at is None
    with connect_as(old) as conn, connect_as(new) as conn2:  # pods not yet rolled, and rolled ones
        conn.execute("CREATE TABLE before_rollout (id int)")
        conn.commit()
        conn2.execute("INSERT INTO before_rollout VALUES (1)")
        conn2.commit()

    assert complete_rotations(pg_registry) == ["database"]

    done = fresh(pg_registry.database)
    assert done.previous_username == done.previous_password == "" and done.rotation_started_at is None
    with pytest.raises(psycopg.OperationalError, match=f'role "{old.username}" does not exist'):
        connect_as(old)
    with connect_as(done) as conn:
        assert conn.execute("SELECT count(*) FROM before_rollout").fetchone() == (1,)
    assert complete_rotations(pg_registry) == [], "nothing is left to complete"


def test_storage_rotation_keeps_the_old_key_until_completed(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    prepare_dependencies(registry)
    old = fresh(registry.storage)

    rotate_credentials(registry, ["storage"], actor=None, via=Via.SYSTEM)
    prepare_dependencies(registry)

    new = fresh(registry.storage)
    assert new.access_key != old.access_key and new.previous_access_key == old.access_key
    for storage in (
        old,
        new,
    ):  # ListBucket: what Harbor's registry may do on its bucket (moto has no HeadBucket)
        s3_server.client("s3", storage.access_key, storage.secret_key).list_objects_v2(Bucket=storage.bucket)

    assert complete_rotations(registry) == ["storage"]

    with pytest.raises(ClientError):
        s3_server.client("s3", old.access_key, old.secret_key).list_objects_v2(Bucket=old.bucket)
    s3_server.client("s3", new.access_key, new.secret_key).list_objects_v2(Bucket=new.bucket)


def test_managed_cache_rotation_asks_for_a_reconcile_when_completed(db):
    registry = registry_with(cache_mode=CacheMode.MANAGED)
    prepare_dependencies(registry)
    old = fresh(registry.cache).password
    rotate_credentials(registry, ["cache"], actor=None, via=Via.SYSTEM)
    prepare_dependencies(registry)
    assert fresh(registry.cache).previous_password == old
    queued_before = registry.runs.filter(status=RunStatus.QUEUED).count()
    registry.runs.filter(status=RunStatus.QUEUED).update(status=RunStatus.SUCCEEDED)  # the rotation's run ran

    assert complete_rotations(registry) == ["cache"]

    assert fresh(registry.cache).previous_password == ""
    assert queued_before == 1 and registry.runs.filter(status=RunStatus.QUEUED, operation="rotation").exists()


def test_rotation_is_audited_without_secrets(pg_registry, operator):
    prepare_dependencies(pg_registry)

    rotate_credentials(pg_registry, None, actor=operator, via=Via.UI)

    event = AuditEvent.objects.get(action="rotate_credentials")
    assert event.actor == operator and event.via == Via.UI and event.registry_id == pg_registry.pk
    assert event.changes["kinds"] == ["database", "cache"]
    assert "storage" in event.changes["skipped"], "storage was never provisioned on this cluster"
    database = fresh(pg_registry.database)
    assert database.password not in str(event.changes)


def test_a_second_rotation_is_refused_while_one_is_under_way(pg_registry):
    prepare_dependencies(pg_registry)
    rotate_credentials(pg_registry, ["database"], actor=None, via=Via.SYSTEM)

    with pytest.raises(ActionRefused, match="already under way") as refused:
        rotate_credentials(pg_registry, ["database"], actor=None, via=Via.SYSTEM)
    assert refused.value.code == "rotation_in_progress"

    prepare_dependencies(pg_registry)  # started, not yet completed: still refused
    with pytest.raises(ActionRefused, match="already under way"):
        rotate_credentials(pg_registry, None, actor=None, via=Via.SYSTEM)


@pytest.mark.parametrize(
    ("state", "code"),
    [(DesiredState.SUSPENDED, "registry_suspended"), (DesiredState.DELETED, "registry_deleted")],
)
def test_rotation_is_refused_for_a_suspended_or_deleted_registry(pg_registry, state, code):
    prepare_dependencies(pg_registry)
    Registry.objects.filter(pk=pg_registry.pk).update(desired_state=state)

    with pytest.raises(ActionRefused) as refused:
        rotate_credentials(pg_registry, ["database"], actor=None, via=Via.SYSTEM)

    assert refused.value.code == code
    assert fresh(pg_registry.database).rotation_requested_at is None


def test_rotation_of_shared_or_swift_storage_is_refused_with_the_way_out(s3_server):
    shared = registry_with(**s3_fields(s3_server, iam=False))
    prepare_dependencies(shared)

    with pytest.raises(ActionRefused, match="shared S3 keys") as refused:
        rotate_credentials(shared, ["storage"], actor=None, via=Via.SYSTEM)
    assert refused.value.code == "not_rotatable"

    swift = registry_with()
    swift.storage.kind = StorageKind.SWIFT
    swift.storage.provisioned_at = swift.storage.status_since
    swift.storage.save()
    with pytest.raises(ActionRefused, match="Swift credentials"):
        rotate_credentials(swift, ["storage"], actor=None, via=Via.SYSTEM)


def test_unknown_kinds_are_refused(pg_registry):
    with pytest.raises(ActionRefused, match="Unknown credential kinds: ingress") as refused:
        rotate_credentials(pg_registry, ["database", "ingress"], actor=None, via=Via.SYSTEM)
    assert refused.value.status == 400 and refused.value.field == "kinds"


def test_a_rotation_the_service_refuses_is_dropped_and_audited(redis_server):
    server = redis_server(config_file=False)
    registry = registry_with(cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    cache.host, cache.port, cache.password = server.host, server.port, server.password
    cache.save()
    prepare_dependencies(registry)
    rotate_credentials(registry, ["cache"], actor=None, via=Via.SYSTEM)

    report = prepare_dependencies(registry)

    refused = fresh(cache)
    assert report.item("cache").ok and refused.password == server.password
    assert refused.rotation_requested_at is None and refused.rotation_started_at is None
    event = AuditEvent.objects.get(action="rotation_refused")
    assert "cannot save a password change" in event.changes["reason"]


def test_a_rotation_that_fails_on_the_way_is_kept_for_the_next_reconcile(pg_registry, monkeypatch):
    from provisioning.external.base import DependencyUnreachable
    from provisioning.external.postgres import PostgresProvider

    prepare_dependencies(pg_registry)
    rotate_credentials(pg_registry, ["database"], actor=None, via=Via.SYSTEM)

    def unreachable(self, binding):
        raise DependencyUnreachable("unreachable: connection reset at 127.0.0.1:5432.")

    monkeypatch.setattr(PostgresProvider, "rotate", unreachable)
    report = prepare_dependencies(pg_registry)

    assert report.item("database").status == "unreachable"
    assert fresh(pg_registry.database).rotation_requested_at is not None

    monkeypatch.undo()
    prepare_dependencies(pg_registry)

    started = fresh(pg_registry.database)
    assert started.rotation_requested_at is None and started.rotation_started_at is not None
