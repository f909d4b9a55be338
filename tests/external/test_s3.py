"""A tenant's object storage: its bucket, its own IAM user and key, probe checks, repair, resumption and purge."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from provisioning.choices import BindingStatus, StorageKind, WhoseMove
from provisioning.external import (
    PurgeBlocked,
    check_dependencies,
    prepare_dependencies,
    purge_dependencies,
)
from provisioning.external.s3 import PROBE_PREFIX, S3Storage, iam_user_name
from tests.external.conftest import fresh, registry_with, s3_fields

pytestmark = pytest.mark.django_db


def keys_of(s3_server, user: str) -> set[str]:
    return {
        k["AccessKeyId"] for k in s3_server.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    }


def as_tenant(s3_server, storage):
    return s3_server.client("s3", storage.access_key, storage.secret_key)


def test_prepare_creates_the_bucket_and_a_user_of_the_tenants_own(s3_server):
    registry = registry_with(**s3_fields(s3_server))

    report = prepare_dependencies(registry)

    storage = fresh(registry.storage)
    assert report.item("storage").ok, report.message
    assert s3_server.bucket_exists(storage.bucket)
    assert storage.iam_user == iam_user_name(storage.bucket)
    assert storage.access_key != s3_server.access_key and keys_of(s3_server, storage.iam_user) == {
        storage.access_key
    }
    assert storage.latency_ms is not None and storage.check_details["isolation"] == "own IAM user"
    listing = as_tenant(s3_server, storage).list_objects_v2(Bucket=storage.bucket)
    assert listing["KeyCount"] == 0, "the probe object was deleted again"
    assert not any(o["Key"].startswith(PROBE_PREFIX) for o in listing.get("Contents", []))


def test_prepare_is_idempotent_and_keeps_the_key(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    prepare_dependencies(registry)
    first = fresh(registry.storage)

    prepare_dependencies(registry)

    second = fresh(registry.storage)
    assert (second.access_key, second.secret_key) == (first.access_key, first.secret_key)
    assert keys_of(s3_server, second.iam_user) == {second.access_key}


def test_a_tenants_key_cannot_reach_another_tenants_bucket(s3_server):
    mine, theirs = registry_with(**s3_fields(s3_server)), registry_with(**s3_fields(s3_server))
    prepare_dependencies(mine)
    prepare_dependencies(theirs)
    a, b = fresh(mine.storage), fresh(theirs.storage)
    as_tenant(s3_server, b).put_object(Bucket=b.bucket, Key="v2/blobs/secret", Body=b"theirs")

    with pytest.raises(ClientError) as denied:
        as_tenant(s3_server, a).get_object(Bucket=b.bucket, Key="v2/blobs/secret")
    assert denied.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        as_tenant(s3_server, a).put_object(Bucket=b.bucket, Key="intrusion", Body=b"x")
    as_tenant(s3_server, a).put_object(Bucket=a.bucket, Key="mine", Body=b"ok")


def test_a_key_deleted_behind_the_consoles_back_is_detected_and_replaced(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    prepare_dependencies(registry)
    old = fresh(registry.storage)
    s3_server.client("iam").delete_access_key(UserName=old.iam_user, AccessKeyId=old.access_key)

    check_dependencies(registry)

    broken = fresh(registry.storage)
    assert broken.status == BindingStatus.MISCONFIGURED and broken.whose_move == WhoseMove.TRANSIENT
    assert "refuses the tenant's access key" in broken.status_message

    report = prepare_dependencies(registry)

    repaired = fresh(registry.storage)
    assert report.item("storage").ok, report.message
    assert repaired.access_key != old.access_key and keys_of(s3_server, repaired.iam_user) == {
        repaired.access_key
    }


def test_a_run_failing_between_creating_and_storing_a_key_leaves_no_stray_key(s3_server, monkeypatch):
    registry = registry_with(**s3_fields(s3_server))
    original = S3Storage.ensure_tenant_user

    def create_key_then_die(self, binding, *, new_key=False):
        original(self, binding, new_key=new_key)
        binding.access_key = binding.secret_key = ""  # the worker died before the key reached the database
        raise ConnectionResetError("worker lost its connection")

    monkeypatch.setattr(S3Storage, "ensure_tenant_user", create_key_then_die)
    with pytest.raises(ConnectionResetError):
        prepare_dependencies(registry)
    stored = fresh(registry.storage)
    user = iam_user_name(stored.bucket)
    leftover = keys_of(s3_server, user)
    assert len(leftover) == 1 and stored.access_key == "", "a key exists that the console never stored"
    assert stored.provisioned_at is None and s3_server.bucket_exists(stored.bucket)

    monkeypatch.undo()
    report = prepare_dependencies(registry)

    done = fresh(registry.storage)
    assert report.item("storage").ok, report.message
    assert keys_of(s3_server, user) == {done.access_key} and done.access_key not in leftover


def test_without_iam_the_shared_keys_are_used_and_said_so(s3_server):
    registry = registry_with(**s3_fields(s3_server, iam=False))

    report = prepare_dependencies(registry)

    storage = fresh(registry.storage)
    assert report.item("storage").ok, report.message
    assert storage.iam_user == "" and storage.access_key == s3_server.access_key
    assert "shared keys" in storage.status_message and "no IAM" in storage.status_message


def test_an_unreachable_endpoint_holds_the_rollout(db):
    registry = registry_with(
        s3_endpoint="http://127.0.0.1:1", s3_region="eu-west-1", s3_access_key="AKIA", s3_secret_key="s"
    )

    report = prepare_dependencies(registry)

    item = report.item("storage")
    assert item.status == BindingStatus.UNREACHABLE and item.whose_move == WhoseMove.PROVIDER
    assert "127.0.0.1:1" in item.message and not report.ready


def test_swift_is_not_checked_and_says_so(db):
    registry = registry_with()
    storage = registry.storage
    storage.kind = StorageKind.SWIFT
    storage.endpoint, storage.bucket = "https://keystone.example/v3", "harbor"
    storage.access_key, storage.secret_key = "harbor", "swift-password"
    storage.save()

    report = prepare_dependencies(registry)

    item = report.item("storage")
    assert item.status == BindingStatus.UNKNOWN
    assert item.message.startswith("not checked: Swift checks are not implemented")
    assert not item.holds_rollout


def test_purge_refuses_a_bucket_with_objects_unless_forced(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    prepare_dependencies(registry)
    storage = fresh(registry.storage)
    as_tenant(s3_server, storage).put_object(Bucket=storage.bucket, Key="v2/blobs/sha256/ab", Body=b"layer")

    with pytest.raises(PurgeBlocked, match="still holds 1 objects"):
        purge_dependencies(registry)

    assert s3_server.bucket_exists(storage.bucket) and keys_of(s3_server, storage.iam_user)
    blocked = fresh(registry.storage)
    assert blocked.whose_move == WhoseMove.CUSTOMER and "purge refused" in blocked.status_message

    purge_dependencies(registry, force=True)

    assert not s3_server.bucket_exists(storage.bucket)
    with pytest.raises(ClientError):
        s3_server.client("iam").get_user(UserName=storage.iam_user)
    purged = fresh(registry.storage)
    assert purged.access_key == purged.secret_key == purged.iam_user == ""


def test_purge_removes_an_empty_bucket(s3_server):
    registry = registry_with(**s3_fields(s3_server))
    prepare_dependencies(registry)
    bucket = fresh(registry.storage).bucket

    purge_dependencies(registry)

    assert not s3_server.bucket_exists(bucket)
