"""A tenant's PostgreSQL: provisioned idempotently, isolated, checked, repaired, resumed after a failure, purged."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from provisioning.choices import BindingStatus, WhoseMove
from provisioning.external import prepare_dependencies, purge_dependencies
from provisioning.external.postgres import PostgresProvider, login_roles
from tests.external.conftest import connect_as, fresh, registry_with

pytestmark = pytest.mark.django_db


def admin_rows(admin_url: str, query: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute(query, params).fetchall()


def database_exists(admin_url: str, name: str) -> bool:
    return bool(admin_rows(admin_url, "SELECT 1 FROM pg_database WHERE datname = %s", name))


def role_exists(admin_url: str, name: str) -> bool:
    return bool(admin_rows(admin_url, "SELECT 1 FROM pg_roles WHERE rolname = %s", name))


def test_prepare_creates_an_owned_database_reachable_by_the_tenant_role(pg_registry, postgres_admin_url):
    report = prepare_dependencies(pg_registry)

    db = fresh(pg_registry.database)
    assert report.item("database").ok, report.message
    assert db.status == BindingStatus.OK and db.provisioned_at is not None
    assert db.username == login_roles(db.owner_role)[0]
    assert db.latency_ms is not None and db.server_version.startswith("15")
    owner = admin_rows(
        postgres_admin_url, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", db.name
    )
    assert owner == [(db.owner_role,)]
    assert admin_rows(
        postgres_admin_url, "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", db.owner_role
    ) == [(False,)]
    with connect_as(db) as conn:
        conn.execute("CREATE TABLE artifact (id int)")
        conn.commit()
        table_owner = conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'artifact'").fetchone()
    assert table_owner == (db.owner_role,), (
        "what Harbor creates belongs to the owner role, not the login role"
    )


def test_prepare_is_idempotent(pg_registry):
    prepare_dependencies(pg_registry)
    first = fresh(pg_registry.database)

    prepare_dependencies(pg_registry)
    second = fresh(pg_registry.database)

    assert (second.username, second.password, second.provisioned_at) == (
        first.username,
        first.password,
        first.provisioned_at,
    )
    assert second.status == BindingStatus.OK


def test_a_tenant_role_cannot_connect_to_another_tenants_database(db, postgres_admin_url):
    first = registry_with(database_admin_url=postgres_admin_url)
    second = registry_with(database_admin_url=postgres_admin_url)
    prepare_dependencies(first)
    prepare_dependencies(second)
    mine, theirs = fresh(first.database), fresh(second.database)

    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect_as(mine, dbname=theirs.name)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        connect_as(theirs, dbname=mine.name)
    with connect_as(mine) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (mine.name,)


def test_a_dropped_role_is_detected_and_recreated(pg_registry, postgres_admin_url):
    from provisioning.external import check_dependencies

    prepare_dependencies(pg_registry)
    db = fresh(pg_registry.database)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(db.username)))

    report = check_dependencies(pg_registry)

    broken = fresh(pg_registry.database)
    assert broken.status == BindingStatus.MISCONFIGURED
    assert broken.whose_move == WhoseMove.TRANSIENT
    assert f"role {db.username} no longer exists" in broken.status_message
    assert not report.ready and "database role" in report.message

    report = prepare_dependencies(pg_registry)

    assert report.item("database").ok, report.message
    assert role_exists(postgres_admin_url, db.username)
    with connect_as(fresh(pg_registry.database)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_password_changed_behind_the_consoles_back_is_detected_and_reset(db, password_postgres_admin_url):
    registry = registry_with(database_admin_url=password_postgres_admin_url)
    prepare_dependencies(registry)
    binding = fresh(registry.database)
    with psycopg.connect(password_postgres_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE {} PASSWORD 'changed-by-someone'").format(sql.Identifier(binding.username))
        )
    from provisioning.external import check_dependencies

    check_dependencies(registry)

    broken = fresh(registry.database)
    assert broken.status == BindingStatus.MISCONFIGURED
    assert "refuses the stored password" in broken.status_message
    assert broken.whose_move == WhoseMove.TRANSIENT

    report = prepare_dependencies(registry)

    assert report.item("database").ok, report.message
    with connect_as(fresh(registry.database)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (binding.owner_role,)


def test_a_vanished_database_is_not_recreated_empty(pg_registry, postgres_admin_url):
    prepare_dependencies(pg_registry)
    db = fresh(pg_registry.database)
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(db.name)))

    report = prepare_dependencies(pg_registry)

    item = report.item("database")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert "has disappeared" in item.message and "restore it" in item.message
    assert not database_exists(postgres_admin_url, db.name)


def test_a_run_failing_midway_is_finished_by_the_next(pg_registry, postgres_admin_url, monkeypatch):
    def fail(*args, **kwargs):
        raise psycopg.OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(PostgresProvider, "ensure_database", staticmethod(fail))

    report = prepare_dependencies(pg_registry)

    half = fresh(pg_registry.database)
    assert not report.ready and report.item("database").status == BindingStatus.UNREACHABLE
    assert "server closed the connection" in half.status_message
    assert role_exists(postgres_admin_url, half.username), "the role made before the failure stays known"
    assert half.password and half.provisioned_at is None
    assert not database_exists(postgres_admin_url, half.name)

    monkeypatch.undo()
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:  # a password nobody holds any more
        conn.execute(sql.SQL("ALTER ROLE {} PASSWORD 'lost'").format(sql.Identifier(half.username)))
    report = prepare_dependencies(pg_registry)

    done = fresh(pg_registry.database)
    assert report.item("database").ok, report.message
    assert done.provisioned_at is not None and done.username == half.username
    assert database_exists(postgres_admin_url, done.name)
    verifier = admin_rows(
        postgres_admin_url, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", done.username
    )
    assert str(verifier[0][0]).startswith("SCRAM-SHA-256$"), (
        "the unfinished role got the stored password again"
    )


def test_purge_drops_the_database_and_every_role(pg_registry, postgres_admin_url):
    prepare_dependencies(pg_registry)
    db = fresh(pg_registry.database)
    session = connect_as(db)  # a pod that is still connected does not block the purge

    purge_dependencies(pg_registry)

    session.close()
    assert not database_exists(postgres_admin_url, db.name)
    for role in (db.owner_role, *login_roles(db.owner_role)):
        assert not role_exists(postgres_admin_url, role)
    purged = fresh(pg_registry.database)
    assert purged.password == "" and purged.provisioned_at is None
    purge_dependencies(pg_registry)  # purging again finds nothing left and does not fail


def test_without_admin_connection_the_database_is_misconfigured_and_holds_the_rollout(db):
    registry = registry_with()

    report = prepare_dependencies(registry)

    item = report.item("database")
    assert item.status == BindingStatus.MISCONFIGURED and item.whose_move == WhoseMove.PROVIDER
    assert "no PostgreSQL admin connection" in item.message
    assert not report.ready


def test_an_unreachable_server_is_named_with_its_address_and_whose_move(db):
    registry = registry_with(database_admin_url="postgres://postgres@127.0.0.1:1/postgres")

    report = prepare_dependencies(registry)

    assert report.item("database").status == BindingStatus.UNREACHABLE
    assert (
        "database unreachable: connection refused at 127.0.0.1:1, through the console's admin connection "
        "(provider's move)"
    ) in report.message
    assert report.error_class == "DEPENDENCY_UNREACHABLE"


def test_a_corrected_admin_url_moves_the_binding_to_the_reachable_server(db, postgres_admin_url):
    registry = registry_with(database_admin_url="postgres://postgres@127.0.0.1:1/postgres")
    assert prepare_dependencies(registry).item("database").status == BindingStatus.UNREACHABLE
    stale = fresh(registry.database)
    assert (stale.host, stale.port) == ("127.0.0.1", 1)

    registry.cluster.database_admin_url = postgres_admin_url
    registry.cluster.save()
    report = prepare_dependencies(registry)

    assert report.item("database").status == BindingStatus.OK, report.message
    binding = fresh(registry.database)
    admin = conninfo_to_dict(postgres_admin_url)
    assert (binding.host, binding.port) == (admin.get("host", "localhost"), int(admin.get("port") or 5432))
    with connect_as(binding) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == (binding.name,)
