"""Ingress hostnames and TLS certificates: one hostname per registry across tenants, certificate readiness and expiry.

The reconciler reads each Certificate's status (cert-manager) into the ``IngressBinding``; this module adds the
warning due ``EXPIRY_WARNING_DAYS`` before expiry (``apply_expiry_warning``, on every dependency check and prepare),
from the stored binding only, so the warning moves forward with the clock between runs.
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
    """Another registry of any tenant (deleted and purged ones included: their row keeps it) has ``hostname``."""
    others = Registry.objects.filter(hostname=normalize_hostname(hostname))
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


def expiry_warning(binding: IngressBinding, now: datetime | None = None) -> CheckResult | None:
    """The warning a certificate deserves from ``EXPIRY_WARNING_DAYS`` before its end, or None while it is far off."""
    now = now or timezone.now()
    not_after = binding.certificate_not_after
    if not_after is None or not_after > now + timedelta(days=EXPIRY_WARNING_DAYS):
        return None
    registry = binding.registry
    host, issuer = registry.hostname, registry.cluster.cert_issuer
    details = {"not_after": not_after.isoformat(), "ready": binding.certificate_ready}
    if not_after <= now:
        return CheckResult(
            BindingStatus.DEGRADED,
            f"certificate for {host} expired on {not_after:%Y-%m-%d}: clients refuse the registry; check why "
            f"cert-manager issuer {issuer} did not renew it (the Certificate's events).",
            WhoseMove.PROVIDER,
            details=details,
        )
    renewal = binding.certificate_renewal_at
    due = f" (renewal was due {renewal:%Y-%m-%d})" if renewal and renewal <= now else ""
    return CheckResult(
        BindingStatus.DEGRADED,
        f"certificate for {host} expires on {not_after:%Y-%m-%d}, in {(not_after - now).days} days, and is not "
        f"renewed yet{due}: check cert-manager issuer {issuer}.",
        WhoseMove.PROVIDER,
        details=details,
    )


def certificate_result(binding: IngressBinding, now: datetime | None = None) -> CheckResult:
    """The expiry warning when one is due, else what the reconciler last read from the Certificate."""
    warning = expiry_warning(binding, now)
    if warning is not None:
        return warning
    if binding.last_checked_at is None:
        return CheckResult(
            BindingStatus.UNKNOWN,
            f"certificate for {binding.registry.hostname} is not observed yet: it is requested with the stack.",
            WhoseMove.TRANSIENT,
        )
    return CheckResult(
        binding.status, binding.status_message, binding.whose_move, details=binding.check_details
    )


def apply_expiry_warning(binding: IngressBinding, now: datetime | None = None) -> bool:
    """Record the expiry warning on the binding when one is due (call after recording the Certificate's state)."""
    warning = expiry_warning(binding, now)
    if warning is None or (warning.status, warning.message) == (binding.status, binding.status_message):
        return False
    binding.record_check(warning.status, warning.message, warning.whose_move)
    binding.check_details = warning.details
    binding.save(update_fields=[*STATUS_FIELDS, "check_details"])
    return True
