"""Large fleets for query-count tests and the benchmark: rows written with bulk_create, no service calls."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from provisioning.choices import ErrorClass, Phase, RunStatus, RunTrigger, WhoseMove
from provisioning.models import Cluster, IngressBinding, Plan, ReconcileRun, Registry, Tenant

PHASES = (
    Phase.READY,
    Phase.READY,
    Phase.READY,
    Phase.DEGRADED,
    Phase.PROVISIONING,
    Phase.FAILED,
    Phase.UPGRADING,
)


def add_registries(count: int, cluster: Cluster, prefix: str = "bulk") -> list[Registry]:
    """``count`` tenants with one registry each, a certificate expiring soon on every tenth, failed runs."""
    plans = list(Plan.objects.order_by("storage_quota_gib"))
    tenants = Tenant.objects.bulk_create(
        Tenant(slug=f"{prefix}{i}", name=f"{prefix.title()} {i}") for i in range(count)
    )
    registries = Registry.objects.bulk_create(
        Registry(
            tenant=tenant,
            name="main",
            plan=plans[i % len(plans)],
            cluster=cluster,
            harbor_version="2.14.4",
            hostname=f"main.{tenant.slug}.registry.example.com",
            namespace=f"harbor-{tenant.slug}-main",
            phase=PHASES[i % len(PHASES)],
        )
        for i, tenant in enumerate(tenants)
    )
    soon = timezone.now() + timedelta(days=10)
    IngressBinding.objects.bulk_create(
        IngressBinding(
            registry=r, tls_secret_name="main-tls", certificate_not_after=soon if i % 10 == 0 else None
        )
        for i, r in enumerate(registries)
    )
    ReconcileRun.objects.bulk_create(
        ReconcileRun(
            registry=r,
            trigger=RunTrigger.SWEEP,
            status=RunStatus.FAILED,
            error_class=ErrorClass.DEPENDENCY_UNREACHABLE,
            whose_move=WhoseMove.PROVIDER,
            error_message="The database at db.example:5432 refused the connection.",
            duration_ms=1200.0,
        )
        for i, r in enumerate(registries)
        if i % 7 == 5
    )
    return registries
