"""Bindings of a registry to the provider's shared services, each with the status last observed."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from provisioning.choices import BindingStatus, CacheMode, StorageKind, WhoseMove
from provisioning.fields import EncryptedTextField


class Binding(models.Model):
    """What every binding records of its last check."""

    status = models.CharField(max_length=16, choices=BindingStatus.choices, default=BindingStatus.UNKNOWN)
    status_message = models.CharField(max_length=500, blank=True)
    whose_move = models.CharField(max_length=16, choices=WhoseMove.choices, blank=True)
    status_since = models.DateTimeField(default=timezone.now)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    provisioned_at = models.DateTimeField(null=True, blank=True)
    provisioned_hash = models.CharField(
        max_length=64,
        blank=True,
        help_text="Hash of the desired state last provisioned and found OK; a reconcile provisions again only when "
        "it changes (provisioning.external.desired).",
    )
    check_details = models.JSONField(
        default=dict, blank=True, help_text="Figures of the last check (server version, memory, isolation)."
    )
    rotation_requested_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A credential rotation was asked for and waits for the next reconcile.",
    )
    rotation_started_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="New credential live; the previous one stays valid until the rollout is Ready.",
    )

    class Meta:
        abstract = True

    KIND = ""

    def record_check(
        self, status: str, message: str = "", whose_move: str = "", latency_ms: float | None = None
    ) -> None:
        now = timezone.now()
        if status != self.status:
            self.status_since = now
        self.status = status
        self.status_message = message[:500]
        self.whose_move = whose_move
        self.latency_ms = latency_ms
        self.last_checked_at = now

    @property
    def is_ok(self) -> bool:
        return self.status == BindingStatus.OK

    def check_age_seconds(self, now: datetime | None = None) -> float | None:
        """Seconds since the last check; None when it was never checked."""
        if self.last_checked_at is None:
            return None
        return max(((now or timezone.now()) - self.last_checked_at).total_seconds(), 0.0)

    def check_is_stale(self, now: datetime | None = None) -> bool:
        """Never checked, or checked longer ago than two periodic dependency checks: the result says nothing now."""
        age = self.check_age_seconds(now)
        return age is None or age > 2 * settings.DEPENDENCY_CHECK_INTERVAL_SECONDS

    def observed_status(self, now: datetime | None = None) -> str:
        """The last check's status while it is recent; Unknown once it is stale (never shown as fine then)."""
        return BindingStatus.UNKNOWN if self.check_is_stale(now) else self.status


class DatabaseBinding(Binding):
    KIND = "database"
    registry = models.OneToOneField(
        "provisioning.Registry", on_delete=models.CASCADE, related_name="database"
    )
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(default=5432)
    name = models.CharField(max_length=63, blank=True)
    username = models.CharField(max_length=63, blank=True, help_text="The login role Harbor uses now.")
    password = EncryptedTextField(blank=True)
    previous_username = models.CharField(
        max_length=63, blank=True, help_text="The login role of before a rotation, dropped once it completes."
    )
    previous_password = EncryptedTextField(blank=True)
    owner_role = models.CharField(
        max_length=63,
        blank=True,
        help_text="NOLOGIN role owning the database; both login roles are its members.",
    )
    sslmode = models.CharField(
        max_length=16,
        default="disable",
        choices=[(m, m) for m in ("disable", "require", "verify-ca", "verify-full")],
    )
    server_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"database {self.username}@{self.host}/{self.name}"


class CacheBinding(Binding):
    KIND = "cache"
    registry = models.OneToOneField("provisioning.Registry", on_delete=models.CASCADE, related_name="cache")
    mode = models.CharField(max_length=16, choices=CacheMode.choices, default=CacheMode.MANAGED)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(default=6379)
    username = models.CharField(max_length=63, blank=True)
    password = EncryptedTextField(blank=True)
    previous_password = EncryptedTextField(blank=True)
    tls = models.BooleanField(default=False)
    sentinel_master = models.CharField(max_length=63, blank=True)
    maxmemory_bytes = models.BigIntegerField(null=True, blank=True)
    used_memory_bytes = models.BigIntegerField(null=True, blank=True)
    server_version = models.CharField(max_length=32, blank=True)

    def __str__(self) -> str:
        return f"cache {self.mode} {self.host}:{self.port}"


class StorageBinding(Binding):
    KIND = "storage"
    registry = models.OneToOneField("provisioning.Registry", on_delete=models.CASCADE, related_name="storage")
    kind = models.CharField(max_length=8, choices=StorageKind.choices, default=StorageKind.S3)
    endpoint = models.CharField(max_length=300, blank=True, help_text="S3 endpoint URL, or Swift auth URL.")
    region = models.CharField(max_length=63, blank=True)
    bucket = models.CharField(max_length=63, blank=True, help_text="S3 bucket, or Swift container.")
    access_key = models.CharField(max_length=128, blank=True, help_text="S3 access key, or Swift user name.")
    secret_key = EncryptedTextField(blank=True, help_text="S3 secret key, or Swift password.")
    previous_access_key = models.CharField(max_length=128, blank=True)
    previous_secret_key = EncryptedTextField(blank=True)
    iam_user = models.CharField(
        max_length=64,
        blank=True,
        help_text="The tenant's own IAM user; empty when the cluster's shared keys are used.",
    )
    swift_tenant = models.CharField(max_length=128, blank=True)
    swift_domain = models.CharField(max_length=128, blank=True)
    root_directory = models.CharField(max_length=200, blank=True)
    bucket_claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the console set out to create the bucket: one found untagged later is its own.",
    )

    def __str__(self) -> str:
        return f"storage {self.kind} {self.bucket}"

    def claim_bucket(self) -> None:
        """Record, before the bucket is created, that the console creates it (saved at once, alone)."""
        self.bucket_claimed_at = timezone.now()
        self.save(update_fields=["bucket_claimed_at"])


class IngressBinding(Binding):
    KIND = "ingress"
    registry = models.OneToOneField("provisioning.Registry", on_delete=models.CASCADE, related_name="ingress")
    tls_secret_name = models.CharField(max_length=253, blank=True)
    certificate_ready = models.BooleanField(default=False)
    certificate_not_after = models.DateTimeField(null=True, blank=True)
    certificate_renewal_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ingress {self.registry.hostname if self.registry_id else ''}"


BINDING_MODELS: tuple[type[Binding], ...] = (DatabaseBinding, CacheBinding, StorageBinding, IngressBinding)
