"""The console never adopts, re-passwords or deletes a database, role, bucket, IAM user or Redis that is not its
registry's: it marks what it makes, refuses what carries another mark or none, and marks once what a binding
provisioned before marks existed (issue #11, point 1)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from provisioning.choices import BindingStatus, CacheMode, WhoseMove
from provisioning.external import prepare_dependencies, purge_dependencies
from provisioning.external.ownership import TAG_INSTALLATION, TAG_REGISTRY, Owner, parse_text
from provisioning.external.postgres import login_roles
from provisioning.external.redis import MARKER_KEY
from provisioning.models import installation_id
from tests.external.conftest import fresh, registry_with, s3_fields

pytestmark = pytest.mark.django_db


def admin_one(admin_url: str, query: str, *params: object) -> Any:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def admin_run(admin_url: str, *statements: sql.Composed) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def verifier(admin_url: str, role: str) -> Any:
    return admin_one(admin_url, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", role)


def comment_of_database(admin_url: str, name: str) -> Any:
    return admin_one(
        admin_url, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", name
    )


def comment_of_role(admin_url: str, name: str) -> Any:
    return admin_one(
        admin_url, "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = %s", name
    )


def someone_elses_database(admin_url: str, binding, comment: str | None = None) -> None:
    """The database and roles of ``binding``'s names, made by someone else, with a password of their own."""
    role = sql.Identifier(binding.owner_role)
    login = sql.Identifier(login_roles(binding.owner_role)[0])
    statements: list[sql.Composed] = [
        sql.SQL("CREATE ROLE {} NOLOGIN").format(role),
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'theirs' IN ROLE {}").format(login, role),
        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(binding.name), role),
    ]
    if comment:
        statements.append(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(comment)))
        statements.append(sql.SQL("COMMENT ON ROLE {} IS {}").format(login, sql.Literal(comment)))
    admin_run(admin_url, *statements)


# -- PostgreSQL ----------------------------------------------------------------------------------------------------


def test_what_the_console_makes_carries_the_installation_and_registry(pg_registry, postgres_admin_url):
    assert prepare_dependencies(pg_registry).item("database").ok

    db = fresh(pg_registry.database)
    mark = Owner(installation_id(), pg_registry.pk)
    assert parse_text(comment_of_database(postgres_admin_url, db.name)) == mark
    for role in (db.owner_role, db.username):
        assert parse_text(comment_of_role(postgres_admin_url, role)) == mark


@pytest.mark.parametrize("comment", [None, "harbor-console installation=zzzz9 registry=7"])
def test_a_database_of_this_name_that_is_not_this_registrys_is_refused_and_left_alone(
    pg_registry, postgres_admin_url, comment
):
    binding = fresh(pg_registry.database)
    binding.owner_role = binding.owner_role or binding.name
    someone_elses_database(postgres_admin_url, binding, comment)
    login = login_roles(binding.owner_role)[0]
    before = verifier(postgres_admin_url, login)

    report = prepare_dependencies(pg_registry)

    item = report.item("database")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert f"role {binding.owner_role} at " in item.message and "is not this registry's" in item.message
    expected = (
        "the mark of registry 7 of console installation zzzz9" if comment else "no mark of this console"
    )
    assert expected in item.message and f"registry {pg_registry.pk} of console installation" in item.message
    assert verifier(postgres_admin_url, login) == before, "their password was not reset"
    assert comment_of_database(postgres_admin_url, binding.name) is None, "their database was not marked"
    assert fresh(pg_registry.database).provisioned_at is None

    with pytest.raises(Exception, match="is not this registry's"):
        purge_dependencies(pg_registry, force=True)
    assert admin_one(postgres_admin_url, "SELECT 1 FROM pg_database WHERE datname = %s", binding.name) == 1


def test_a_database_provisioned_before_marks_existed_is_marked_once_and_kept(pg_registry, postgres_admin_url):
    assert prepare_dependencies(pg_registry).item("database").ok
    db = fresh(pg_registry.database)
    admin_run(
        postgres_admin_url,  # as the console left it before marks existed
        sql.SQL("COMMENT ON DATABASE {} IS NULL").format(sql.Identifier(db.name)),
        *(
            sql.SQL("COMMENT ON ROLE {} IS NULL").format(sql.Identifier(r))
            for r in (db.owner_role, db.username)
        ),
    )

    assert prepare_dependencies(pg_registry).item("database").ok

    assert parse_text(comment_of_database(postgres_admin_url, db.name)) == Owner(
        installation_id(), pg_registry.pk
    )
    assert parse_text(comment_of_role(postgres_admin_url, db.username)) is not None
    assert fresh(pg_registry.database).password == db.password


def test_a_database_left_unmarked_by_an_interrupted_run_is_recognised_by_its_marked_owner(
    pg_registry, postgres_admin_url, monkeypatch
):
    from provisioning.external.postgres import PostgresProvider

    original = PostgresProvider.ensure_database

    def create_then_die(self, cur, binding, owner):
        cur.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(binding.name), sql.Identifier(binding.owner_role)
            )
        )
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(PostgresProvider, "ensure_database", create_then_die)
    assert not prepare_dependencies(pg_registry).item("database").ok
    monkeypatch.setattr(PostgresProvider, "ensure_database", original)

    assert prepare_dependencies(pg_registry).item("database").ok
    db = fresh(pg_registry.database)
    assert parse_text(comment_of_database(postgres_admin_url, db.name)) == Owner(
        installation_id(), pg_registry.pk
    )


# -- S3 ------------------------------------------------------------------------------------------------------------


def test_bucket_and_user_carry_the_mark(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    assert prepare_dependencies(registry).item("storage").ok

    storage = fresh(registry.storage)
    wanted = {TAG_INSTALLATION: installation_id(), TAG_REGISTRY: str(registry.pk)}
    bucket_tags = s3_server.client().get_bucket_tagging(Bucket=storage.bucket)["TagSet"]
    user_tags = s3_server.client("iam").list_user_tags(UserName=storage.iam_user)["Tags"]
    assert wanted.items() <= {t["Key"]: t["Value"] for t in bucket_tags}.items()
    assert wanted.items() <= {t["Key"]: t["Value"] for t in user_tags}.items()
    assert s3_server.client("iam").get_user(UserName=storage.iam_user)["User"]["Path"] == "/harbor-console/"


def test_a_bucket_and_user_of_this_name_that_are_not_this_registrys_are_refused_and_left_alone(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    storage = fresh(registry.storage)
    admin_s3, iam = s3_server.client(), s3_server.client("iam")
    admin_s3.create_bucket(
        Bucket=storage.bucket, CreateBucketConfiguration={"LocationConstraint": s3_server.region}
    )
    admin_s3.put_object(Bucket=storage.bucket, Key="theirs", Body=b"theirs")
    iam.create_user(UserName=storage.bucket)
    their_key = iam.create_access_key(UserName=storage.bucket)["AccessKey"]["AccessKeyId"]

    report = prepare_dependencies(registry)

    item = report.item("storage")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert f"bucket {storage.bucket} at" in item.message and "no mark of this console" in item.message
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=storage.bucket)["AccessKeyMetadata"]}
    assert keys == {their_key}, "no key of theirs was deleted as a stray"
    assert iam.list_user_policies(UserName=storage.bucket)["PolicyNames"] == []
    with pytest.raises(Exception, match="NoSuchBucketPolicy"):
        admin_s3.get_bucket_policy(Bucket=storage.bucket)

    with pytest.raises(Exception, match="is not this registry's"):
        purge_dependencies(registry, force=True)
    assert admin_s3.get_object(Bucket=storage.bucket, Key="theirs")["Body"].read() == b"theirs"


def test_an_iam_user_of_this_name_that_is_not_this_registrys_is_refused(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    storage = fresh(registry.storage)
    iam = s3_server.client("iam")
    iam.create_user(UserName=storage.bucket, Tags=[{"Key": TAG_INSTALLATION, "Value": "other1"},
                                                    {"Key": TAG_REGISTRY, "Value": "3"}])  # fmt: skip
    their_key = iam.create_access_key(UserName=storage.bucket)["AccessKey"]["AccessKeyId"]

    report = prepare_dependencies(registry)

    item = report.item("storage")
    assert item.status == BindingStatus.MISCONFIGURED
    assert "IAM user" in item.message and "registry 3 of console installation other1" in item.message
    keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=storage.bucket)["AccessKeyMetadata"]}
    assert keys == {their_key}


def test_a_bucket_left_untagged_by_an_interrupted_run_is_recognised_by_the_bindings_claim(
    s3_server, monkeypatch
):
    from provisioning.external.s3 import S3Storage

    registry = registry_with(**s3_fields(s3_server))

    def die(self, binding):
        raise ConnectionResetError("worker lost its connection")

    monkeypatch.setattr(S3Storage, "_mark_bucket", die)
    with pytest.raises(ConnectionResetError):
        prepare_dependencies(registry)
    monkeypatch.undo()
    stored = fresh(registry.storage)
    assert s3_server.bucket_exists(stored.bucket) and stored.bucket_claimed_at is not None

    assert prepare_dependencies(registry).item("storage").ok


# -- Redis ---------------------------------------------------------------------------------------------------------


def provider_cache(server):
    registry = registry_with(cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    cache.host, cache.port, cache.password, cache.username = server.host, server.port, server.password, ""
    cache.save()
    return cache


def test_a_fresh_provider_redis_is_marked_for_this_registry(redis_server):
    server = redis_server()
    cache = provider_cache(server)

    assert prepare_dependencies(cache.registry).item("cache").ok

    assert parse_text(server.client().get(MARKER_KEY)) == Owner(installation_id(), cache.registry.pk)


@pytest.mark.parametrize("marker", [b"harbor-console installation=other1 registry=3", None])
def test_a_redis_marked_for_another_registry_or_holding_unmarked_data_is_refused_and_kept(
    redis_server, marker
):
    server = redis_server()
    data = server.client()
    data.set("their:session", "1")
    if marker:
        data.set(MARKER_KEY, marker)
    cache = provider_cache(server)

    report = prepare_dependencies(cache.registry)

    item = report.item("cache")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert "is not this registry's" in item.message
    assert data.get(MARKER_KEY) == marker, "their mark was not replaced"

    if marker:
        with pytest.raises(Exception, match="is not this registry's"):
            purge_dependencies(cache.registry, force=True)
    else:
        purge_dependencies(
            cache.registry, force=True
        )  # the console never used it: nothing of its own to remove
    assert data.get("their:session") == b"1" and data.get(MARKER_KEY) == marker
