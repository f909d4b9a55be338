"""Each tenant's object storage: a bucket on the region's S3-compatible store, with its own credentials if possible.

With IAM (``Cluster.s3_iam``: the provider serves the IAM API on the S3 endpoint, as Ceph RGW, MinIO and AWS do)
each tenant gets an IAM user named like its bucket, an inline policy and a bucket policy that admit it to its bucket
only, for the actions Harbor's registry (distribution's S3 driver) uses and nothing else — never a bucket's policy,
ACL or deletion — and an access key of its own. Without IAM the bucket is used with the cluster's shared keys, and
the binding says so: tenants are then separated by bucket name only.

Ownership: buckets and IAM users carry the tags of :mod:`provisioning.external.ownership`; one without this
registry's tags is refused, never adopted, and none of its keys or objects is touched. The binding records
(``bucket_claimed_at``) that the console is about to create its bucket before it does, so a run interrupted between
creating and tagging it recognises the bucket as its own.

Rotation (IAM only) creates the user's second access key and switches the binding to it; the previous key works
until ``revoke_previous`` deletes it. An access key that exists on the user but is recorded nowhere (a run that
failed between creating and storing it) is deleted by the next ``ensure``.

A bucket that disappears after it was provisioned is not recreated empty: images would be silently lost.
Swift containers are configured by staff and rendered into the registry configuration; they are not checked.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError
from django.utils import timezone

from provisioning.choices import BindingStatus, StorageKind, WhoseMove
from provisioning.external.base import (
    CheckResult,
    DependencyMisconfigured,
    DependencyUnreachable,
    PurgeBlocked,
    RotationNotSupported,
    Stopwatch,
    short,
)
from provisioning.external.connections import S3Admin
from provisioning.external.ownership import Owner, must_mark, parse_tags, refuse_if_shared
from provisioning.models import StorageBinding

PROBE_PREFIX = ".harbor-console-probe/"
USER_POLICY_NAME = "harbor-console-bucket"
CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidClientTokenId"}
MISSING = {"404", "NoSuchBucket", "NotFound", "NoSuchEntity"}
IAM_PATH = "/harbor-console/"
BUCKET_ACTIONS = ("s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads")
OBJECT_ACTIONS = (
    "s3:PutObject",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
)
"""What distribution's S3 driver needs on the bucket and on its objects (its documented permission scopes)."""


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def iam_user_name(bucket: str) -> str:
    """The tenant's IAM user: named like its bucket, which is unique and fits (IAM user names: 64 characters)."""
    return bucket[:64]


def _statements(bucket: str, principal: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    extra = {"Principal": principal} if principal else {}
    return [
        {
            "Sid": "TenantBucket",
            "Effect": "Allow",
            **extra,
            "Action": list(BUCKET_ACTIONS),
            "Resource": [f"arn:aws:s3:::{bucket}"],
        },
        {
            "Sid": "TenantObjects",
            "Effect": "Allow",
            **extra,
            "Action": list(OBJECT_ACTIONS),
            "Resource": [f"arn:aws:s3:::{bucket}/*"],
        },
    ]


def bucket_policy(bucket: str, user_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": _statements(bucket, {"AWS": [user_arn]})}


def user_policy(bucket: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": _statements(bucket)}


_session_lock = threading.Lock()
_session: boto3.session.Session | None = None


@functools.lru_cache(maxsize=512)
def shared_client(
    service: str, endpoint: str, region: str, access_key: str, secret_key: str, timeout: float
) -> Any:
    """A boto3 client per endpoint and key, kept: making one costs tens of milliseconds, using one is thread-safe."""
    global _session
    config = Config(
        connect_timeout=timeout,
        read_timeout=timeout * 2,
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    with _session_lock:  # sessions are not thread-safe; the clients they make are
        if _session is None:
            _session = boto3.session.Session()
        return _session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=endpoint or None,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            config=config,
        )


class S3Storage:
    """A bucket per tenant on the S3 endpoint of ``admin``."""

    def __init__(self, admin: S3Admin | None, timeout: float) -> None:
        self.admin = admin
        self.timeout = timeout
        self.issued_key = False
        """An access key was created by this provider object: IAM may take seconds to accept a new key."""

    # -- clients -----------------------------------------------------------------------------------------------

    def _client(self, service: str, endpoint: str, region: str, access_key: str, secret_key: str) -> Any:
        return shared_client(service, endpoint, region, access_key, secret_key, self.timeout)

    def _admin(self) -> S3Admin:
        if self.admin is None or not self.admin.access_key:
            raise DependencyMisconfigured(
                "is not configured for this cluster: set the cluster's S3 endpoint and admin keys (or "
                "SHARED_S3_ENDPOINT and its keys) so the console can create the tenant's bucket."
            )
        return self.admin

    def admin_s3(self) -> Any:
        admin = self._admin()
        return self._client("s3", admin.endpoint, admin.region, admin.access_key, admin.secret_key)

    def admin_iam(self) -> Any:
        admin = self._admin()
        return self._client("iam", admin.endpoint, admin.region, admin.access_key, admin.secret_key)

    def tenant_s3(self, binding: StorageBinding, secret_key: str | None = None) -> Any:
        return self._client(
            "s3", binding.endpoint, binding.region, binding.access_key, secret_key or binding.secret_key
        )

    def _where(self, binding: StorageBinding) -> str:
        return binding.endpoint or (self.admin.endpoint if self.admin else "") or "the S3 endpoint"

    def _unreachable(self, binding: StorageBinding, error: BaseException) -> DependencyUnreachable:
        return DependencyUnreachable(f"unreachable: {short(error)} at {self._where(binding)}.")

    # -- provisioning ------------------------------------------------------------------------------------------

    def ensure(self, binding: StorageBinding, *, reset_credentials: bool = False) -> None:
        """Bucket, then (with IAM) user, policies and access key; each made only when missing."""
        if binding.kind == StorageKind.SWIFT:
            self._ensure_swift(binding)
            return
        admin = self._admin()
        if not binding.bucket:
            raise DependencyMisconfigured("has no bucket name on its binding.")
        binding.endpoint = binding.endpoint or admin.endpoint
        binding.region = binding.region or admin.region
        try:
            self.ensure_bucket(binding)
            if admin.iam:
                self.ensure_tenant_user(binding, new_key=reset_credentials)
            else:
                binding.iam_user = ""
                binding.access_key, binding.secret_key = admin.access_key, admin.secret_key
        except (EndpointConnectionError, BotoCoreError) as error:
            raise self._unreachable(binding, error) from error
        except ClientError as error:
            raise DependencyMisconfigured(
                f"refused a provisioning request at {self._where(binding)} ({short(error)}): check that the "
                "cluster's S3 admin keys may create buckets" + (" and IAM users." if admin.iam else ".")
            ) from error
        if binding.provisioned_at is None:
            binding.provisioned_at = timezone.now()

    @staticmethod
    def _ensure_swift(binding: StorageBinding) -> None:
        missing = [
            name for name in ("endpoint", "bucket", "access_key", "secret_key") if not getattr(binding, name)
        ]
        if missing:
            labels = {
                "endpoint": "auth URL",
                "bucket": "container",
                "access_key": "user",
                "secret_key": "password",
            }
            raise DependencyMisconfigured(
                "Swift storage needs " + ", ".join(labels[name] for name in missing) + ": enter them on the "
                "registry's storage binding (the console does not create Swift containers)."
            )
        if binding.provisioned_at is None:
            binding.provisioned_at = timezone.now()

    def _bucket_exists(self, binding: StorageBinding) -> bool:
        try:
            self.admin_s3().head_bucket(Bucket=binding.bucket)
            return True
        except ClientError as error:
            code = error_code(error)
            if code in ("403", "AccessDenied"):
                raise DependencyMisconfigured(
                    f"bucket {binding.bucket} exists at {self._where(binding)} but belongs to someone else: "
                    "choose another bucket name.",
                    whose_move=WhoseMove.PROVIDER,
                ) from error
            if code not in MISSING:
                raise
            return False

    def _bucket_tags(self, binding: StorageBinding) -> list[dict[str, str]]:
        try:
            return list(self.admin_s3().get_bucket_tagging(Bucket=binding.bucket)["TagSet"])
        except ClientError as error:
            if error_code(error) not in ("NoSuchTagSet", "NoSuchTagSetError"):
                raise
            return []

    def _bucket_needs_mark(self, binding: StorageBinding, *, vouched: bool) -> bool:
        """Whether the existing bucket still needs its mark; NotOwned when it is not this registry's."""
        found = parse_tags(self._bucket_tags(binding))
        what, where = f"bucket {binding.bucket}", self._where(binding)
        return must_mark(what, where, found, Owner.of(binding), vouched=vouched)

    def _mark_bucket(self, binding: StorageBinding) -> None:
        """Add the mark to the bucket's tags, keeping the provider's own."""
        owner = Owner.of(binding)
        keys = {tag["Key"] for tag in owner.tags}
        kept = [tag for tag in self._bucket_tags(binding) if tag["Key"] not in keys]
        self.admin_s3().put_bucket_tagging(Bucket=binding.bucket, Tagging={"TagSet": kept + owner.tags})

    @staticmethod
    def _vouched(binding: StorageBinding) -> bool:
        return binding.provisioned_at is not None or binding.bucket_claimed_at is not None

    def ensure_bucket(self, binding: StorageBinding) -> None:
        if self._bucket_exists(binding):
            if self._bucket_needs_mark(binding, vouched=self._vouched(binding)):
                self._mark_bucket(binding)
            return
        if binding.provisioned_at is not None:
            raise DependencyMisconfigured(
                f"bucket {binding.bucket} has disappeared from {self._where(binding)} (it was created on "
                f"{binding.provisioned_at:%Y-%m-%d}): restore it at the provider; the console does not recreate "
                "it empty on its own."
            )
        binding.claim_bucket()
        params: dict[str, Any] = {"Bucket": binding.bucket}
        if binding.region and binding.region != "us-east-1":
            params["CreateBucketConfiguration"] = {"LocationConstraint": binding.region}
        try:
            self.admin_s3().create_bucket(**params)
        except ClientError as error:
            if error_code(error) != "BucketAlreadyOwnedByYou":
                raise
            self._bucket_needs_mark(binding, vouched=False)  # made by someone else since the check
        self._mark_bucket(binding)

    def _user_needs_mark(self, binding: StorageBinding, user: str) -> bool:
        """Whether the existing IAM user still needs its mark; NotOwned when it is not this registry's."""
        tags = self.admin_iam().list_user_tags(UserName=user)["Tags"]
        vouched = binding.provisioned_at is not None
        return must_mark(
            f"IAM user {user}", self._where(binding), parse_tags(tags), Owner.of(binding), vouched=vouched
        )

    def ensure_tenant_user(self, binding: StorageBinding, *, new_key: bool = False) -> None:
        iam = self.admin_iam()
        user = binding.iam_user or iam_user_name(binding.bucket)
        owner = Owner.of(binding)
        try:
            arn = iam.get_user(UserName=user)["User"]["Arn"]
        except ClientError as error:
            if error_code(error) not in MISSING:
                raise
            arn = iam.create_user(UserName=user, Path=IAM_PATH, Tags=owner.tags)["User"]["Arn"]
        else:
            if self._user_needs_mark(binding, user):
                iam.tag_user(UserName=user, Tags=owner.tags)
        binding.iam_user = user
        wanted = user_policy(binding.bucket)
        try:
            current = iam.get_user_policy(UserName=user, PolicyName=USER_POLICY_NAME)["PolicyDocument"]
            if isinstance(current, str):
                current = json.loads(current)
        except ClientError as error:
            if error_code(error) not in MISSING:
                raise
            current = None
        if current != wanted:
            iam.put_user_policy(UserName=user, PolicyName=USER_POLICY_NAME, PolicyDocument=json.dumps(wanted))
        self.ensure_bucket_policy(binding, arn)
        known = {binding.access_key, binding.previous_access_key} - {""}
        keys = {k["AccessKeyId"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}
        for stray in keys - known:
            iam.delete_access_key(UserName=user, AccessKeyId=stray)
        if binding.previous_access_key and binding.previous_access_key not in keys:
            binding.previous_access_key = binding.previous_secret_key = ""
        if new_key or binding.access_key not in keys or not binding.secret_key:
            if binding.access_key in keys:
                iam.delete_access_key(UserName=user, AccessKeyId=binding.access_key)
            key = iam.create_access_key(UserName=user)["AccessKey"]
            binding.access_key, binding.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
            self.issued_key = True

    def ensure_bucket_policy(self, binding: StorageBinding, user_arn: str) -> None:
        s3 = self.admin_s3()
        wanted = bucket_policy(binding.bucket, user_arn)
        try:
            current = json.loads(s3.get_bucket_policy(Bucket=binding.bucket)["Policy"])
        except ClientError as error:
            if error_code(error) not in ("NoSuchBucketPolicy", *MISSING):
                raise
            current = None
        if current != wanted:
            s3.put_bucket_policy(Bucket=binding.bucket, Policy=json.dumps(wanted))

    # -- checking ----------------------------------------------------------------------------------------------

    def check(self, binding: StorageBinding) -> CheckResult:
        """Write, read back and delete a probe object with the tenant's own credentials."""
        if binding.kind == StorageKind.SWIFT:
            return CheckResult(
                BindingStatus.UNKNOWN,
                f"not checked: Swift checks are not implemented (container {binding.bucket or '?'}).",
                details={"kind": "swift"},
            )
        if not (binding.bucket and binding.access_key and binding.secret_key):
            return CheckResult(BindingStatus.UNKNOWN, "is not provisioned yet.")
        isolation = (
            "own IAM user" if binding.iam_user else "the cluster's shared keys (no IAM at this provider)"
        )
        details = {"bucket": binding.bucket, "isolation": isolation}
        where = self._where(binding)
        key = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        body = secrets.token_bytes(32)
        clock = Stopwatch()
        s3 = self.tenant_s3(binding)
        try:
            s3.put_object(Bucket=binding.bucket, Key=key, Body=body)
            try:
                read = s3.get_object(Bucket=binding.bucket, Key=key)["Body"].read()
            finally:
                s3.delete_object(Bucket=binding.bucket, Key=key)
        except (EndpointConnectionError, BotoCoreError) as error:
            return CheckResult(
                BindingStatus.UNREACHABLE,
                f"unreachable: {short(error)} at {where}.",
                WhoseMove.PROVIDER,
                clock.ms,
            )
        except ClientError as error:
            return self._failed_check(binding, error, clock.ms, details)
        latency = clock.ms
        if read != body:
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"bucket {binding.bucket} at {where} returned other bytes than were written to it.",
                WhoseMove.PROVIDER,
                latency,
                details,
            )
        note = "" if binding.iam_user else "; uses the cluster's shared keys: the provider has no IAM"
        return CheckResult(
            BindingStatus.OK,
            f"bucket {binding.bucket} at {where} accepts writes, reads and deletes{note}.",
            WhoseMove.NONE,
            latency,
            details,
        )

    def _failed_check(
        self, binding: StorageBinding, error: ClientError, latency: float, details: dict[str, Any]
    ) -> CheckResult:
        code, where = error_code(error), self._where(binding)
        if code in CREDENTIAL_ERRORS:
            if self.issued_key:
                return CheckResult(
                    BindingStatus.MISCONFIGURED,
                    f"does not accept the tenant's new access key at {where} yet ({code}): checked again on the "
                    "next reconcile.",
                    WhoseMove.TRANSIENT,
                    latency,
                    details,
                )
            if binding.iam_user and self.admin is not None:
                return CheckResult(
                    BindingStatus.MISCONFIGURED,
                    f"refuses the tenant's access key at {where} ({code}): the console issues a new key on the "
                    "next reconcile.",
                    WhoseMove.TRANSIENT,
                    latency,
                    details,
                    repairable=True,
                )
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"refuses the cluster's shared keys at {where} ({code}): correct the cluster's S3 keys.",
                WhoseMove.PROVIDER,
                latency,
                details,
            )
        if code in MISSING:
            return CheckResult(
                BindingStatus.MISCONFIGURED,
                f"bucket {binding.bucket} does not exist at {where}: restore it at the provider.",
                WhoseMove.PROVIDER,
                latency,
                details,
            )
        return CheckResult(
            BindingStatus.DEGRADED,
            f"at {where} failed a probe: {short(error)}.",
            WhoseMove.PROVIDER,
            latency,
            details,
        )

    # -- rotation ----------------------------------------------------------------------------------------------

    def rotate(self, binding: StorageBinding) -> None:
        """A second access key for the tenant's user; the binding switches to it, the first stays valid."""
        if binding.kind == StorageKind.SWIFT or not binding.iam_user:
            raise RotationNotSupported(
                "this storage uses credentials the console does not issue (the cluster's shared S3 keys, or a "
                "Swift user): rotate them at the provider and update the cluster or the binding."
            )
        iam = self.admin_iam()
        try:
            keys = {
                k["AccessKeyId"] for k in iam.list_access_keys(UserName=binding.iam_user)["AccessKeyMetadata"]
            }
            for stray in keys - {binding.access_key}:
                iam.delete_access_key(UserName=binding.iam_user, AccessKeyId=stray)
            key = iam.create_access_key(UserName=binding.iam_user)["AccessKey"]
        except (EndpointConnectionError, BotoCoreError) as error:
            raise self._unreachable(binding, error) from error
        except ClientError as error:
            raise DependencyMisconfigured(
                f"refused a new access key for {binding.iam_user} at {self._where(binding)} ({short(error)})."
            ) from error
        binding.previous_access_key, binding.previous_secret_key = binding.access_key, binding.secret_key
        binding.access_key, binding.secret_key = key["AccessKeyId"], key["SecretAccessKey"]
        self.issued_key = True

    def revoke_previous(self, binding: StorageBinding) -> None:
        if binding.iam_user and binding.previous_access_key:
            try:
                self.admin_iam().delete_access_key(
                    UserName=binding.iam_user, AccessKeyId=binding.previous_access_key
                )
            except (EndpointConnectionError, BotoCoreError) as error:
                raise self._unreachable(binding, error) from error
            except ClientError as error:
                if error_code(error) not in MISSING:
                    raise DependencyMisconfigured(
                        f"refused to delete the previous access key of {binding.iam_user} ({short(error)})."
                    ) from error
        binding.previous_access_key = binding.previous_secret_key = ""

    # -- purge -------------------------------------------------------------------------------------------------

    def check_purge(self, binding: StorageBinding, force: bool = False) -> None:
        """Raise the first precondition of a purge that fails; change nothing."""
        if self._purge_target(binding):
            self._guarded(binding, lambda: self._purge_refusal(binding, force))

    def _purge_target(self, binding: StorageBinding) -> bool:
        """Whether there is a bucket to purge through the admin keys; raise what keeps the console from it."""
        if binding.kind == StorageKind.SWIFT:
            raise DependencyMisconfigured(
                f"the console does not remove Swift containers: delete {binding.bucket} at the provider.",
                whose_move=WhoseMove.PROVIDER,
            )
        if binding.bucket and self.admin is not None:
            return True
        if binding.provisioned_at is not None:
            self._admin()  # provisioned once, unreachable now: say what is missing
        return False

    def _guarded(self, binding: StorageBinding, step: Callable[[], None]) -> None:
        try:
            step()
        except (EndpointConnectionError, BotoCoreError) as error:
            raise self._unreachable(binding, error) from error
        except ClientError as error:
            raise DependencyMisconfigured(
                f"refused to remove bucket {binding.bucket} at {self._where(binding)} ({short(error)})."
            ) from error

    def _purge_refusal(self, binding: StorageBinding, force: bool) -> None:
        """Raise when the bucket or user is not this registry's, another registry names the bucket, or the bucket
        still holds objects and ``force`` was not given."""
        refuse_if_shared(
            binding,
            f"bucket {binding.bucket} at {self._where(binding)}",
            bucket=binding.bucket,
            endpoint=binding.endpoint,
        )
        if binding.iam_user and self._admin().iam:
            try:
                self.admin_iam().get_user(UserName=binding.iam_user)
            except ClientError as error:
                if error_code(error) not in MISSING:
                    raise
            else:
                self._user_needs_mark(binding, binding.iam_user)
        if not self._bucket_exists(binding):
            return
        self._bucket_needs_mark(binding, vouched=self._vouched(binding))
        if force:
            return
        versions = self.admin_s3().list_object_versions(Bucket=binding.bucket, MaxKeys=1000)
        leftovers = versions.get("Versions", []) + versions.get("DeleteMarkers", [])
        if leftovers:
            count = f"{len(leftovers)}{'+' if versions.get('IsTruncated') else ''}"
            raise PurgeBlocked(
                f"bucket {binding.bucket} still holds {count} objects: copy out what must be kept, then purge "
                "with force to delete them."
            )

    def purge(self, binding: StorageBinding, force: bool = False) -> None:
        """Delete the bucket when it is empty (every object and version first when ``force``), then the user;
        every precondition is checked again first."""
        if self._purge_target(binding):
            self._guarded(binding, lambda: self._purge_bucket(binding, force))
        binding.iam_user = binding.access_key = binding.secret_key = ""
        binding.previous_access_key = binding.previous_secret_key = ""
        binding.provisioned_at = binding.bucket_claimed_at = None

    def _purge_bucket(self, binding: StorageBinding, force: bool) -> None:
        self._purge_refusal(binding, force)
        if self._bucket_exists(binding):
            s3 = self.admin_s3()
            paginator = s3.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=binding.bucket):
                doomed = [
                    {"Key": item["Key"], "VersionId": item["VersionId"]}
                    for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if doomed:
                    s3.delete_objects(Bucket=binding.bucket, Delete={"Objects": doomed, "Quiet": True})
            s3.delete_bucket(Bucket=binding.bucket)
        if binding.iam_user and self._admin().iam:
            self._delete_user(binding.iam_user)

    def _delete_user(self, user: str) -> None:
        iam = self.admin_iam()
        try:
            keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
        except ClientError as error:
            if error_code(error) in MISSING:
                return
            raise
        for key in keys:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
        for name in iam.list_user_policies(UserName=user)["PolicyNames"]:
            iam.delete_user_policy(UserName=user, PolicyName=name)
        iam.delete_user(UserName=user)


def admin_problems(admin: S3Admin, timeout: float) -> dict[str, str]:
    """What is wrong with an S3 admin configuration, keyed ``endpoint``/``access_key``/``secret_key``/``iam``.

    Lists the buckets with the admin keys, and when IAM is on lists users too; messages never repeat a secret.
    """
    problems: dict[str, str] = {}
    if admin.endpoint:
        scheme, _, rest = admin.endpoint.partition("://")
        if scheme not in ("http", "https") or not rest.strip("/"):
            problems["endpoint"] = "Give the S3 endpoint as a URL, e.g. https://s3.region.example.com."
    if bool(admin.access_key) != bool(admin.secret_key):
        field = "secret_key" if admin.access_key else "access_key"
        problems[field] = "Give both the S3 access key and its secret key."
    if problems or not admin.access_key:
        return problems
    storage = S3Storage(admin, timeout)
    where = admin.endpoint or "the S3 endpoint"
    try:
        storage.admin_s3().list_buckets()
    except (EndpointConnectionError, BotoCoreError) as error:
        return {"endpoint": f"{where} does not answer ({short(error)}): check the URL and the network."}
    except ClientError as error:
        code = error_code(error)
        if code in ("InvalidAccessKeyId", "InvalidClientTokenId"):
            return {"access_key": f"{where} does not know this access key ({code}): correct it."}
        if code == "SignatureDoesNotMatch":
            return {"secret_key": f"{where} rejects the secret key for this access key ({code}): correct it."}
        return {
            "access_key": f"{where} refused to list buckets with these keys ({code}): use an admin's keys."
        }
    if admin.iam:
        try:
            storage.admin_iam().list_users(MaxItems=1)
        except (EndpointConnectionError, BotoCoreError, ClientError) as error:
            problems["iam"] = (
                f"{where} does not serve the IAM API to these keys ({short(error)}): turn IAM off to give every "
                "tenant the shared keys, or use keys that may manage IAM users."
            )
    return problems
