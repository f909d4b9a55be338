"""Ingress hostnames and TLS certificates: one hostname per registry across tenants, certificate readiness and expiry.

The reconciler reads each Certificate's status (cert-manager) and hands it to ``record_certificate``; everything
else here reads the stored ``IngressBinding`` only, so the expiry warning moves forward with the clock between runs.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

from provisioning.choices import BindingStatus, DesiredState, Phase, WhoseMove
from provisioning.external.base import CheckResult
from provisioning.models import IngressBinding, Registry

EXPIRY_WARNING_DAYS = 21
STATUS_FIELDS = ["status", "status_message", "whose_move", "status_since", "last_checked_at", "latency_ms"]


def normalize_hostname(hostname: str) -> str:
    return hostname.strip().lower().rstrip(".")


def hostname_taken(hostname: str, registry: Registry | None = None) -> bool:
    """Another registry (of any tenant, deleted ones included until purged) already serves ``hostname``."""
    others = Registry.objects.filter(hostname=normalize_hostname(hostname)).exclude(phase=Phase.PURGED)
    if registry is not None and registry.pk:
        others = others.exclude(pk=registry.pk)
    return others.exists()


def validate_hostname_available(hostname: str, registry: Registry | None = None) -> None:
    """Raise a ValidationError on ``hostname`` naming the problem and the way out, without naming the other tenant."""
    if hostname_taken(hostname, registry):
        message = Registry._meta.get_field("hostname").error_messages["unique"]
        raise ValidationError({"hostname": message}, code="unique")


def expiring_certificates(
    days: int = EXPIRY_WARNING_DAYS, now: datetime | None = None
) -> QuerySet[IngressBinding]:
    """Ingress bindings of live registries whose certificate expires within ``days`` (expired ones included)."""
    limit = (now or timezone.now()) + timedelta(days=days)
    return (
        IngressBinding.objects.filter(certificate_not_after__lte=limit)
        .exclude(registry__desired_state=DesiredState.DELETED)
        .exclude(registry__phase__in=[Phase.DELETED, Phase.PURGED])
        .select_related("registry", "registry__tenant", "registry__cluster")
        .order_by("certificate_not_after")
    )


def certificate_result(binding: IngressBinding, now: datetime | None = None, reason: str = "") -> CheckResult:
    """What the stored certificate state means today: valid, not issued yet, not Ready, expiring or expired."""
    now = now or timezone.now()
    registry = binding.registry
    host, issuer = registry.hostname, registry.cluster.cert_issuer
    not_after = binding.certificate_not_after
    details = {"not_after": not_after.isoformat() if not_after else None, "ready": binding.certificate_ready}
    if not_after is not None and not_after <= now:
        return CheckResult(
            BindingStatus.DEGRADED,
            f"certificate for {host} expired on {not_after:%Y-%m-%d}: clients refuse the registry; check why "
            f"cert-manager issuer {issuer} did not renew it (the Certificate's events).",
            WhoseMove.PROVIDER,
            details=details,
        )
    if not_after is not None and not_after <= now + timedelta(days=EXPIRY_WARNING_DAYS):
        days_left = (not_after - now).days
        renewal = binding.certificate_renewal_at
        due = f" (renewal was due {renewal:%Y-%m-%d})" if renewal and renewal <= now else ""
        return CheckResult(
            BindingStatus.DEGRADED,
            f"certificate for {host} expires on {not_after:%Y-%m-%d}, in {days_left} days, and is not renewed "
            f"yet{due}: check cert-manager issuer {issuer}.",
            WhoseMove.PROVIDER,
            details=details,
        )
    because = f": {reason}" if reason else ""
    if binding.certificate_ready and not_after is not None:
        return CheckResult(
            BindingStatus.OK, f"certificate for {host} is valid until {not_after:%Y-%m-%d}.", details=details
        )
    if not_after is None:
        return CheckResult(
            BindingStatus.UNKNOWN,
            f"certificate for {host} is not issued yet by {issuer}{because}; it needs the hostname's DNS to "
            "point at the cluster's ingress.",
            WhoseMove.TRANSIENT,
            details=details,
        )
    return CheckResult(
        BindingStatus.DEGRADED,
        f"certificate for {host} is not Ready{because} (the current one is valid until {not_after:%Y-%m-%d}).",
        WhoseMove.PROVIDER,
        details=details,
    )


def record_certificate(
    binding: IngressBinding,
    *,
    ready: bool,
    not_after: datetime | None,
    renewal_at: datetime | None = None,
    reason: str = "",
) -> CheckResult:
    """Store what the reconciler read from the Certificate and the status it means; return that status."""
    binding.certificate_ready = ready
    binding.certificate_not_after = not_after
    binding.certificate_renewal_at = renewal_at
    result = certificate_result(binding, reason=reason)
    binding.record_check(result.status, result.message, result.whose_move)
    binding.check_details = result.details
    binding.save(
        update_fields=[
            "certificate_ready",
            "certificate_not_after",
            "certificate_renewal_at",
            "check_details",
            *STATUS_FIELDS,
        ]
    )
    return result
