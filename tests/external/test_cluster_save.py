"""Saving a cluster: admin connections are checked (syntax, reachability, privileges) and never echoed back."""

from __future__ import annotations

import psycopg
import pytest
from django.core.exceptions import ValidationError
from psycopg import sql

from provisioning.choices import Via
from provisioning.models import AuditEvent, Cluster
from provisioning.services.clusters import save_cluster
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_cluster(kube_emulator):
    """An unsaved cluster reaching a local emulator (saving asks its API server for /version)."""

    def make(**fields) -> Cluster:
        values = {"name": f"c{factories.RUN}-{next(factories._seq)}", "api_url": kube_emulator.url}
        values.update(fields)
        return Cluster(**values)

    return make


def refusal(cluster: Cluster, admin_user) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        save_cluster(cluster, actor=admin_user, via=Via.UI)
    assert not Cluster.objects.filter(name=cluster.name).exists()
    return refused.value.message_dict


def test_a_working_admin_connection_is_saved_and_audited_without_secrets(
    admin_user, postgres_admin_url, s3_server, new_cluster
):
    cluster = new_cluster(
        database_admin_url=postgres_admin_url,
        s3_endpoint=s3_server.endpoint,
        s3_region=s3_server.region,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        s3_iam=True,
    )

    save_cluster(cluster, actor=admin_user, via=Via.API)

    event = AuditEvent.objects.get(action="create", target_type="cluster")
    assert event.actor == admin_user and event.via == Via.API
    assert s3_server.secret_key not in str(event.changes) and s3_server.access_key not in str(event.changes)
    assert event.changes["database_admin_url"] == "••••••"


def test_a_url_that_is_not_a_postgres_url_is_refused(admin_user, new_cluster):
    errors = refusal(new_cluster(database_admin_url="mysql://root:hunter2@db:3306/x"), admin_user)

    assert "not a PostgreSQL URL" in errors["database_admin_url"][0]
    assert "hunter2" not in str(errors)


def test_an_unreachable_server_is_refused_with_its_address(admin_user, new_cluster):
    errors = refusal(
        new_cluster(database_admin_url="postgres://admin:hunter2@127.0.0.1:1/postgres"), admin_user
    )

    message = errors["database_admin_url"][0]
    assert (
        "127.0.0.1:1 does not answer (connection refused)" in message and "check the host and port" in message
    )
    assert "hunter2" not in message


def test_a_wrong_password_is_refused_without_repeating_it(
    admin_user, password_postgres_admin_url, new_cluster
):
    wrong = "postgres://postgres:not-the-password@" + password_postgres_admin_url.split("@", 1)[1]

    errors = refusal(new_cluster(database_admin_url=wrong), admin_user)

    message = errors["database_admin_url"][0]
    assert (
        "refused the login of role postgres" in message and "correct the role name or the password" in message
    )
    assert "not-the-password" not in message


def test_a_role_that_may_not_create_roles_is_refused(admin_user, postgres_admin_url, new_cluster):
    role = f"hc_t{factories.RUN}_weak"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(role)))
    try:
        errors = refusal(
            new_cluster(database_admin_url=f"postgres://{role}@127.0.0.1:5432/postgres"), admin_user
        )
    finally:
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))

    assert f"grant it CREATEROLE (ALTER ROLE {role} CREATEROLE)" in errors["database_admin_url"][0]


def test_wrong_s3_keys_are_refused_on_their_field(admin_user, s3_server, new_cluster):
    fields = {"s3_endpoint": s3_server.endpoint, "s3_region": s3_server.region}

    unknown = refusal(
        new_cluster(**fields, s3_access_key="AKIANOTKNOWN", s3_secret_key="s3cr3t-value"), admin_user
    )
    wrong_secret = refusal(
        new_cluster(**fields, s3_access_key=s3_server.access_key, s3_secret_key="s3cr3t-value"), admin_user
    )
    half = refusal(new_cluster(**fields, s3_access_key=s3_server.access_key), admin_user)

    assert "does not know this access key" in unknown["s3_access_key"][0]
    assert "rejects the secret key" in wrong_secret["s3_secret_key"][0]
    assert "Give both" in half["s3_secret_key"][0]
    assert "s3cr3t-value" not in str(unknown) + str(wrong_secret)


def test_an_s3_endpoint_that_does_not_answer_is_refused(admin_user, new_cluster):
    errors = refusal(
        new_cluster(s3_endpoint="http://127.0.0.1:1", s3_access_key="AKIA", s3_secret_key="secret"),
        admin_user,
    )

    assert "does not answer" in errors["s3_endpoint"][0]


def test_model_rules_and_connection_problems_are_reported_together(admin_user, new_cluster):
    cluster = new_cluster(api_url="", database_admin_url="postgres://admin@127.0.0.1:1/postgres")

    errors = refusal(cluster, admin_user)

    assert "api_url" in errors and "database_admin_url" in errors


def test_an_update_is_audited_as_a_diff(admin_user, postgres_admin_url, new_cluster):
    cluster = save_cluster(new_cluster(), actor=admin_user, via=Via.UI).cluster
    cluster.database_admin_url = postgres_admin_url
    cluster.region = "gra"

    save_cluster(cluster, actor=admin_user, via=Via.UI)

    event = AuditEvent.objects.get(action="update", target_type="cluster")
    assert event.changes["region"] == ["", "gra"]
    assert event.changes["database_admin_url"] == "••••••"


def test_an_unrelated_edit_is_saved_while_a_shared_service_is_down(admin_user, new_cluster):
    cluster = save_cluster(new_cluster(), actor=admin_user, via=Via.UI).cluster
    Cluster.objects.filter(pk=cluster.pk).update(database_admin_url="postgres://admin@127.0.0.1:1/postgres")
    cluster.refresh_from_db()
    cluster.capacity = 800

    save_cluster(cluster, actor=admin_user, via=Via.UI)

    assert Cluster.objects.get(pk=cluster.pk).capacity == 800
