"""Tenants' credentials can do what Harbor needs and nothing more (issue #11, point 8).

- PostgreSQL: each login role has the plan's connection limit, enforced by the server.
- S3: the tenant's key may use its bucket the way distribution's S3 driver does (objects, listings, multipart
  uploads) and may not change the bucket itself: no policy, ACL, tags, deletion, or listing of other buckets.
  moto enforces the IAM user's policy here (its server evaluates identity policies, not bucket policies: the
  bucket policy's content is checked as a document).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from botocore.exceptions import ClientError
from django.core.exceptions import ValidationError

from provisioning.external import prepare_dependencies
from provisioning.external.s3 import BUCKET_ACTIONS, OBJECT_ACTIONS, bucket_policy, user_policy
from provisioning.models import Plan, installation_id
from provisioning.models.plans import STANDARD_CONNECTION_LIMITS
from tests import factories
from tests.external.conftest import connect_as, fresh, registry_with, s3_fields

pytestmark = pytest.mark.django_db


# -- the plan's connection limit -----------------------------------------------------------------------------------


def test_each_seeded_plan_leaves_every_pod_enough_connections_within_its_limit():
    for name, limit in STANDARD_CONNECTION_LIMITS.items():
        plan = Plan.objects.get(name=name)
        assert plan.database_connection_limit == limit
        plan.full_clean()
        for max_replicas in range(1, plan.max_replicas + 1):
            plan.max_replicas = max_replicas
            assert plan.database_connections_per_pod() >= 2
            assert plan.database_connections_per_pod() * plan.database_clients() <= limit


@pytest.mark.parametrize("max_replicas", [1, 3, 5, 20])
def test_a_limit_too_small_for_the_plans_pods_is_refused_on_its_field(max_replicas):
    plan = Plan(
        name="tight",
        display_name="Tight",
        replicas=1,
        max_replicas=max_replicas,
        namespace_cpu_limit="1000",
        namespace_memory_limit="1000Gi",
    )
    least = plan.database_clients() * 2
    plan.database_connection_limit = least - 1

    with pytest.raises(ValidationError) as refused:
        plan.full_clean()

    message = refused.value.message_dict["database_connection_limit"][0]
    assert f"Give at least {least}" in message and f"up to {max_replicas} replicas" in message
    plan.database_connection_limit = max(least, 5)
    plan.full_clean()


def test_the_api_refuses_a_connection_limit_below_the_minimum_on_its_field(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin_user)
    plan = Plan.objects.get(name="m")

    response = client.patch(f"/api/v1/plans/{plan.pk}/", {"database_connection_limit": 3}, format="json")

    assert response.status_code == 400
    assert "database_connection_limit" in response.json()["error"]["fields"]
    assert Plan.objects.get(pk=plan.pk).database_connection_limit == STANDARD_CONNECTION_LIMITS["m"]


def rolconnlimit(admin_url: str, role: str) -> int:
    with psycopg.connect(admin_url) as conn:
        row = conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    assert row is not None
    return int(row[0])


def test_login_roles_get_the_plans_limit_and_follow_its_changes(db, postgres_admin_url):
    plan = Plan.objects.create(name=f"p{factories.RUN}", display_name="P", replicas=1, max_replicas=1)
    registry = registry_with(database_admin_url=postgres_admin_url)
    registry.plan = plan
    registry.save()
    prepare_dependencies(registry)
    binding = fresh(registry.database)
    assert rolconnlimit(postgres_admin_url, binding.username) == plan.database_connection_limit

    limit = plan.database_clients() * 2
    plan.database_connection_limit = limit
    plan.full_clean()
    plan.save()
    assert prepare_dependencies(registry).item("database").ok

    assert rolconnlimit(postgres_admin_url, binding.username) == limit
    sessions = [connect_as(binding) for _ in range(limit)]
    try:
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            connect_as(binding)
    finally:
        for session in sessions:
            session.close()


# -- the tenant's S3 rights --------------------------------------------------------------------------------------


def test_the_policies_list_only_what_harbors_registry_uses():
    allowed = set(BUCKET_ACTIONS) | set(OBJECT_ACTIONS)
    for document in (user_policy("b"), bucket_policy("b", "arn:aws:iam::123456789012:user/b")):
        actions = {action for statement in document["Statement"] for action in statement["Action"]}
        assert actions == allowed
        assert not any("*" in action for action in actions)
        for statement in document["Statement"]:
            assert statement["Effect"] == "Allow"
            assert all(r in ("arn:aws:s3:::b", "arn:aws:s3:::b/*") for r in statement["Resource"])
    assert not allowed & {"s3:PutBucketPolicy", "s3:PutBucketAcl", "s3:DeleteBucket", "s3:PutBucketTagging"}


@pytest.fixture
def tenant(s3_server) -> tuple[Any, str]:
    registry = registry_with(**s3_fields(s3_server))
    assert prepare_dependencies(registry).item("storage").ok
    storage = fresh(registry.storage)
    return s3_server.client("s3", storage.access_key, storage.secret_key), storage.bucket


def test_the_tenants_key_does_what_harbors_registry_does(tenant):
    s3, bucket = tenant
    s3.put_object(Bucket=bucket, Key="docker/registry/v2/repositories/a/_layers/x/link", Body=b"sha256:ab")
    assert s3.get_object(Bucket=bucket, Key="docker/registry/v2/repositories/a/_layers/x/link")["Body"].read()
    assert s3.list_objects_v2(Bucket=bucket, Prefix="docker/")["KeyCount"] == 1
    s3.get_bucket_location(Bucket=bucket)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="docker/registry/v2/blobs/big")["UploadId"]
    part = s3.upload_part(
        Bucket=bucket, Key="docker/registry/v2/blobs/big", UploadId=upload, PartNumber=1, Body=b"x"
    )
    assert s3.list_parts(Bucket=bucket, Key="docker/registry/v2/blobs/big", UploadId=upload)["Parts"]
    assert s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key="docker/registry/v2/blobs/big",
        UploadId=upload,
        MultipartUpload={"Parts": [{"ETag": part["ETag"], "PartNumber": 1}]},
    )
    aborted = s3.create_multipart_upload(Bucket=bucket, Key="docker/registry/v2/blobs/gone")["UploadId"]
    s3.abort_multipart_upload(Bucket=bucket, Key="docker/registry/v2/blobs/gone", UploadId=aborted)
    s3.delete_object(Bucket=bucket, Key="docker/registry/v2/blobs/big")


PUBLIC_READ = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",'
    '"Resource":"arn:aws:s3:::%s/*"}]}'
)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda s3, b: s3.put_bucket_policy(Bucket=b, Policy=PUBLIC_READ % b), id="PutBucketPolicy"
        ),
        pytest.param(lambda s3, b: s3.delete_bucket_policy(Bucket=b), id="DeleteBucketPolicy"),
        pytest.param(lambda s3, b: s3.put_bucket_acl(Bucket=b, ACL="public-read"), id="PutBucketAcl"),
        pytest.param(
            lambda s3, b: s3.put_object_acl(Bucket=b, Key="x", ACL="public-read"), id="PutObjectAcl"
        ),
        pytest.param(
            lambda s3, b: s3.put_bucket_tagging(Bucket=b, Tagging={"TagSet": []}), id="PutBucketTagging"
        ),
        pytest.param(lambda s3, b: s3.delete_bucket(Bucket=b), id="DeleteBucket"),
        pytest.param(lambda s3, b: s3.list_buckets(), id="ListAllMyBuckets"),
        pytest.param(lambda s3, b: s3.create_bucket(Bucket=b + "-more"), id="CreateBucket"),
    ],
)
def test_the_tenants_key_cannot_change_the_bucket_itself(tenant, s3_server, call):
    s3, bucket = tenant
    s3.put_object(Bucket=bucket, Key="x", Body=b"x")

    with pytest.raises(ClientError) as refused:
        call(s3, bucket)

    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3_server.bucket_exists(bucket)


def test_a_tenant_role_may_connect_to_no_other_database_the_console_made(db, postgres_admin_url):
    registries = [registry_with(database_admin_url=postgres_admin_url) for _ in range(3)]
    for registry in registries:
        assert prepare_dependencies(registry).item("database").ok
    with psycopg.connect(postgres_admin_url) as conn:
        made = [
            row[0]
            for row in conn.execute(
                "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE %s",
                (f"harbor-console installation={installation_id()} %",),
            )
        ]
    assert len(made) >= 3

    for registry in registries:
        binding = fresh(registry.database)
        for name in made:
            if name == binding.name:
                connect_as(binding).close()
                continue
            with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
                connect_as(binding, dbname=name)
