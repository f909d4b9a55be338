"""The one vocabulary of states, conditions and error classes shared by the UI, the API and the metrics."""

from django.db import models


class DesiredState(models.TextChoices):
    RUNNING = "running", "Running"
    SUSPENDED = "suspended", "Suspended"
    DELETED = "deleted", "Deleted"


class Phase(models.TextChoices):
    """Derived from the desired state and the conditions; never set by hand."""

    PENDING = "Pending"
    PROVISIONING = "Provisioning"
    READY = "Ready"
    DEGRADED = "Degraded"
    UPGRADING = "Upgrading"
    SUSPENDED = "Suspended"
    FAILED = "Failed"
    DELETING = "Deleting"
    DELETED = "Deleted"
    PURGED = "Purged"


class ConditionType(models.TextChoices):
    DEPENDENCIES_READY = "DependenciesReady"
    RESOURCES_APPLIED = "ResourcesApplied"
    AVAILABLE = "Available"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"


class ConditionStatus(models.TextChoices):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class WhoseMove(models.TextChoices):
    """Who has to act for a problem to go away."""

    NONE = "", "Nobody"
    CUSTOMER = "customer", "Customer"
    PROVIDER = "provider", "Provider"
    TRANSIENT = "transient", "Transient (retried automatically)"


class ErrorClass(models.TextChoices):
    """Stable codes support staff search and count."""

    NONE = "", "None"
    DEPENDENCY_UNREACHABLE = "DEPENDENCY_UNREACHABLE"
    DEPENDENCY_MISCONFIGURED = "DEPENDENCY_MISCONFIGURED"
    INVALID_SPEC = "INVALID_SPEC"
    API_CONFLICT = "API_CONFLICT"
    API_UNAVAILABLE = "API_UNAVAILABLE"
    API_FORBIDDEN = "API_FORBIDDEN"
    API_INVALID = "API_INVALID"
    QUOTA_EXCEEDED = "QUOTA_EXCEEDED"
    CLUSTER_UNREACHABLE = "CLUSTER_UNREACHABLE"
    PREREQUISITE_MISSING = "PREREQUISITE_MISSING"
    IMMUTABLE_FIELD = "IMMUTABLE_FIELD"
    NAMESPACE_TERMINATING = "NAMESPACE_TERMINATING"
    NAMESPACE_TAKEN = "NAMESPACE_TAKEN"
    INTERNAL = "INTERNAL"


class ComponentKind(models.TextChoices):
    CORE = "core", "Core"
    PORTAL = "portal", "Portal"
    REGISTRY = "registry", "Registry"
    JOBSERVICE = "jobservice", "Job service"
    TRIVY = "trivy", "Trivy"
    EXPORTER = "exporter", "Exporter"
    REDIS = "redis", "Redis (managed)"


class ClusterHealth(models.TextChoices):
    """What the console last observed of a cluster's API server; Unknown until it has evidence."""

    UNKNOWN = "Unknown"
    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    UNREACHABLE = "Unreachable"


class BindingStatus(models.TextChoices):
    UNKNOWN = "unknown", "Unknown"
    OK = "ok", "OK"
    DEGRADED = "degraded", "Degraded"
    UNREACHABLE = "unreachable", "Unreachable"
    MISCONFIGURED = "misconfigured", "Misconfigured"


class CacheMode(models.TextChoices):
    MANAGED = "managed", "Redis run by the console in the tenant namespace"
    PROVIDER = "provider", "Redis from the provider's Redis service"


class StorageKind(models.TextChoices):
    S3 = "s3", "S3"
    SWIFT = "swift", "Swift"


class RunTrigger(models.TextChoices):
    CREATED = "created", "Registry created"
    CHANGED = "changed", "Registry changed"
    MANUAL = "manual", "Reconcile requested"
    SWEEP = "sweep", "Periodic sweep"
    RETRY = "retry", "Retry after error"
    FOLLOW_UP = "follow_up", "Rollout follow-up"
    DEFERRED = "deferred", "Asked for during another run"
    ACTION = "action", "Operation"
    WATCH = "watch", "Change seen on the cluster"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class ResourceState(models.TextChoices):
    APPLIED = "applied", "Applied"
    READY = "ready", "Ready"
    NOT_READY = "not_ready", "Not ready"
    MISSING = "missing", "Missing"
    DRIFTED = "drifted", "Drifted"


class Via(models.TextChoices):
    UI = "ui", "Web console"
    API = "api", "REST API"
    CLI = "cli", "Command line"
    SYSTEM = "system", "System"
