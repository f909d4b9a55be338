"""Registries on different clusters that share one PostgreSQL and one S3 never share anything there (issue #11, 1).

Tenant ``a-b``/registry ``c`` and tenant ``a``/registry ``b-c`` once got the same database, role and bucket: the second
adopted the first one's database, reset its role's password and deleted its access key, and purging it dropped
the first one's data.
"""

from __future__ import annotations

import psycopg
import pytest

from provisioning.external import prepare_dependencies, purge_dependencies
from provisioning.models import installation_id
from tests import factories
from tests.external.conftest import connect_as, fresh, s3_fields


@pytest.mark.django_db
def test_two_clusters_sharing_one_postgresql_and_s3_never_share_a_database_role_bucket_or_key(
    postgres_admin_url, s3_server
):
    shared = {"database_admin_url": postgres_admin_url, **s3_fields(s3_server)}
    first = factories.registry(
        tenant=factories.tenant(slug="a-b"), name="c", cluster=factories.cluster(**shared)
    )
    second = factories.registry(
        tenant=factories.tenant(slug="a"), name="b-c", cluster=factories.cluster(**shared)
    )

    assert prepare_dependencies(first).ready
    mine = fresh(first.database), fresh(first.storage)
    assert prepare_dependencies(second).ready
    theirs = fresh(second.database), fresh(second.storage)

    assert mine[0].name != theirs[0].name and mine[0].owner_role != theirs[0].owner_role
    assert {mine[0].username, mine[0].previous_username} & {theirs[0].username} == set()
    assert mine[1].bucket != theirs[1].bucket and mine[1].iam_user != theirs[1].iam_user
    assert installation_id() in mine[0].name and installation_id() in mine[1].bucket
    with connect_as(mine[0]) as conn:  # the second registry did not reset the first one's password
        conn.execute("CREATE TABLE kept (id int)")
        conn.commit()
    s3_server.client("s3", mine[1].access_key, mine[1].secret_key).put_object(
        Bucket=mine[1].bucket, Key="v2/kept", Body=b"mine"
    )

    purge_dependencies(second, force=True)

    with connect_as(mine[0]) as conn:
        assert conn.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    body = (
        s3_server.client("s3", mine[1].access_key, mine[1].secret_key)
        .get_object(Bucket=mine[1].bucket, Key="v2/kept")["Body"]
        .read()
    )
    assert body == b"mine"
    with pytest.raises(psycopg.OperationalError):
        connect_as(theirs[0])
