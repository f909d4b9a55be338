"""The model that mirrors each tenant's Harbor stack."""

from provisioning.models.audit import AuditEvent
from provisioning.models.bindings import (
    BINDING_MODELS,
    Binding,
    CacheBinding,
    DatabaseBinding,
    IngressBinding,
    StorageBinding,
)
from provisioning.models.bulk import BulkOperation
from provisioning.models.clusters import Cluster
from provisioning.models.idempotency import IdempotencyKey
from provisioning.models.installation import Installation, installation_id
from provisioning.models.leases import ReconcileLease
from provisioning.models.logins import LoginThrottle
from provisioning.models.plans import Plan
from provisioning.models.registries import Component, EffectiveSettings, Registry, RegistrySecret, SecretName
from provisioning.models.resources import ManagedResource
from provisioning.models.runs import PrunedRuns, ReconcileRun
from provisioning.models.tenants import Tenant
from provisioning.models.tokens import ApiToken
from provisioning.models.upgrades import StepStatus, Upgrade, UpgradeStatus
from provisioning.models.waves import BatchStatus, Wave, WaveBatch, WaveMember, WaveStatus
from provisioning.models.webhooks import (
    DeliveryAttempt,
    DeliveryState,
    Event,
    EventSequence,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "BINDING_MODELS",
    "ApiToken",
    "AuditEvent",
    "BatchStatus",
    "Binding",
    "BulkOperation",
    "CacheBinding",
    "Cluster",
    "Component",
    "DatabaseBinding",
    "DeliveryAttempt",
    "DeliveryState",
    "EffectiveSettings",
    "Event",
    "EventSequence",
    "IdempotencyKey",
    "IngressBinding",
    "Installation",
    "LoginThrottle",
    "ManagedResource",
    "Plan",
    "PrunedRuns",
    "ReconcileLease",
    "ReconcileRun",
    "Registry",
    "RegistrySecret",
    "SecretName",
    "StepStatus",
    "StorageBinding",
    "Tenant",
    "Upgrade",
    "UpgradeStatus",
    "Wave",
    "WaveBatch",
    "WaveMember",
    "WaveStatus",
    "WebhookDelivery",
    "WebhookSubscription",
    "installation_id",
]
