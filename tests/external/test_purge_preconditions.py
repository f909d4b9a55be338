"""A purge checks every precondition of every dependency before it destroys anything (issue #11, points 2 and 3).

A refused purge leaves the database, its roles, the bucket, the access keys and the Redis data exactly as they were,
and says which precondition failed. A provider Redis loses only the keys of the databases Harbor uses, never by
FLUSHALL or FLUSHDB.
"""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from provisioning.choices import BindingStatus, CacheMode
from provisioning.external import DependencyError, PurgeBlocked, prepare_dependencies, purge_dependencies
from provisioning.external.redis import MARKER_KEY
from tests import factories
from tests.external.conftest import connect_as, fresh, s3_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def full_registry(postgres_admin_url, s3_server, redis_server):
    """A registry whose database, provider Redis and bucket all hold data."""
    server = redis_server(extra='rename-command FLUSHALL ""\nrename-command FLUSHDB ""')
    cluster = factories.cluster(database_admin_url=postgres_admin_url, **s3_fields(s3_server))
    registry = factories.registry(cluster=cluster, cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    cache.host, cache.port, cache.password = server.host, server.port, server.password
    cache.save()
    report = prepare_dependencies(registry)
    assert all(report.item(kind).ok for kind in ("database", "cache", "storage")), report.message
    with connect_as(fresh(registry.database)) as conn:
        conn.execute("CREATE TABLE artifact (digest text)")
        conn.execute("INSERT INTO artifact VALUES ('sha256:ab')")
        conn.commit()
    storage = fresh(registry.storage)
    s3_server.client("s3", storage.access_key, storage.secret_key).put_object(
        Bucket=storage.bucket, Key="docker/registry/v2/blobs/ab", Body=b"layer"
    )
    for db in (0, 1, 2, 9):
        client = server.client()
        client.execute_command("SELECT", db)
        client.set(f"harbor:key:{db}", "x")
    registry.server = server  # type: ignore[attr-defined]
    return registry


def everything_is_intact(registry, postgres_admin_url, s3_server) -> None:
    db, storage = fresh(registry.database), fresh(registry.storage)
    with connect_as(db) as conn:
        assert conn.execute("SELECT digest FROM artifact").fetchall() == [("sha256:ab",)]
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        roles = {
            r[0]
            for r in conn.execute(
                "SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)", (db.owner_role,)
            )
        }
    assert {db.owner_role, db.username} <= roles
    tenant = s3_server.client("s3", storage.access_key, storage.secret_key)
    assert (
        tenant.get_object(Bucket=storage.bucket, Key="docker/registry/v2/blobs/ab")["Body"].read() == b"layer"
    )
    keys = s3_server.client("iam").list_access_keys(UserName=storage.iam_user)["AccessKeyMetadata"]
    assert {k["AccessKeyId"] for k in keys} == {storage.access_key}
    server = registry.server
    for db_index in (0, 1, 2, 9):
        client = server.client()
        client.execute_command("SELECT", db_index)
        assert client.get(f"harbor:key:{db_index}") == b"x"
    assert server.client().get(MARKER_KEY) is not None


def test_a_purge_refused_for_a_non_empty_bucket_leaves_every_dependency_intact(
    full_registry, postgres_admin_url, s3_server
):
    with pytest.raises(PurgeBlocked) as refused:
        purge_dependencies(full_registry)

    assert "storage: bucket" in refused.value.message and "still holds 1 objects" in refused.value.message
    assert "nothing was removed" in refused.value.message
    everything_is_intact(full_registry, postgres_admin_url, s3_server)
    assert fresh(full_registry.database).provisioned_at is not None
    assert "purge refused" in fresh(full_registry.storage).status_message


def test_a_purge_refused_for_an_unreachable_redis_leaves_the_database_and_bucket_intact(
    full_registry, postgres_admin_url, s3_server
):
    full_registry.server.stop()

    with pytest.raises(DependencyError) as refused:
        purge_dependencies(full_registry, force=True)

    assert refused.value.status == BindingStatus.UNREACHABLE and "cache: unreachable" in refused.value.message
    full_registry.server.restart()
    with connect_as(fresh(full_registry.database)) as conn:
        assert conn.execute("SELECT count(*) FROM artifact").fetchone() == (1,)
    storage = fresh(full_registry.storage)
    assert s3_server.bucket_exists(storage.bucket)


def test_a_purge_refused_while_another_role_uses_the_database_keeps_it(
    full_registry, postgres_admin_url, s3_server
):
    db = fresh(full_registry.database)
    backup = psycopg.connect(postgres_admin_url, autocommit=True, dbname=db.name)  # e.g. the provider's
    try:
        with pytest.raises(
            PurgeBlocked, match="has open sessions of postgres, which are not this registry's"
        ):
            purge_dependencies(full_registry, force=True)
    finally:
        backup.close()

    everything_is_intact(full_registry, postgres_admin_url, s3_server)


def test_a_purge_refused_while_a_role_owns_objects_elsewhere_keeps_everything(
    full_registry, postgres_admin_url, s3_server
):
    db = fresh(full_registry.database)
    other = f"hc_t{factories.RUN}_elsewhere"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(other)))
    with psycopg.connect(postgres_admin_url, autocommit=True, dbname=other) as conn:
        conn.execute("CREATE TABLE kept (id int)")
        conn.execute(sql.SQL("GRANT SELECT ON kept TO {}").format(sql.Identifier(db.username)))

    with pytest.raises(PurgeBlocked, match=f"hold privileges on objects in {other}"):
        purge_dependencies(full_registry, force=True)

    everything_is_intact(full_registry, postgres_admin_url, s3_server)


def test_a_purge_empties_only_harbors_databases_without_flushall(
    full_registry, postgres_admin_url, s3_server
):
    server = full_registry.server

    purge_dependencies(full_registry, force=True)

    for db in (0, 1, 2):
        client = server.client()
        client.execute_command("SELECT", db)
        assert client.dbsize() == 0
    other = server.client()
    other.execute_command("SELECT", 9)
    assert other.get("harbor:key:9") == b"x", "a database Harbor does not use is not the console's to empty"
    assert not s3_server.bucket_exists(fresh(full_registry.storage).bucket)
    with psycopg.connect(postgres_admin_url) as conn:
        name = fresh(full_registry.database).name
        assert conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
