"""Ingress and TLS: one hostname per registry across tenants; a warning 21 days before a certificate expires."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from provisioning.choices import BindingStatus, DesiredState, Via, WhoseMove
from provisioning.external import check_dependencies
from provisioning.external.tls import (
    apply_expiry_warning,
    expiring_certificates,
    hostname_taken,
    validate_hostname_available,
)
from provisioning.models import Registry
from provisioning.reconcile.readiness import CertificateState, record_certificate
from provisioning.services import registries
from tests import factories
from tests.external.conftest import fresh

pytestmark = pytest.mark.django_db


def observed(registry: Registry, *, days_left: float, ready: bool = True):
    """The ingress binding as the reconciler leaves it after reading a Certificate valid ``days_left`` more days."""
    ingress = registry.ingress
    ingress.certificate_ready = ready
    ingress.certificate_not_after = timezone.now() + timedelta(days=days_left)
    ingress.record_check(BindingStatus.OK, "The TLS certificate is valid.", WhoseMove.NONE)
    ingress.save()
    return ingress


def test_a_hostname_serves_one_registry_across_tenants():
    first = factories.registry()

    with pytest.raises(ValidationError) as refused:
        factories.registry(hostname=first.hostname)

    assert "already serves another registry" in refused.value.message_dict["hostname"][0]
    assert first.tenant.slug not in str(refused.value), "the other tenant is not named"


def test_hostname_availability_ignores_the_registry_itself():
    registry = factories.registry()

    assert hostname_taken(registry.hostname)
    assert not hostname_taken(registry.hostname, registry)
    validate_hostname_available(registry.hostname, registry)
    with pytest.raises(ValidationError, match="Choose another hostname"):
        validate_hostname_available(registry.hostname + ".")


def test_a_certificate_expiring_within_21_days_warns_the_provider():
    registry = factories.registry()
    observed(registry, days_left=20.5)

    report = check_dependencies(registry)

    ingress = fresh(registry.ingress)
    assert ingress.status == BindingStatus.DEGRADED and ingress.whose_move == WhoseMove.PROVIDER
    assert "expires on" in ingress.status_message and "in 20 days" in ingress.status_message
    item = report.item("certificate")
    assert item.status == BindingStatus.DEGRADED and not item.holds_rollout


def test_a_certificate_with_more_than_21_days_left_keeps_the_observed_status():
    registry = factories.registry()
    observed(registry, days_left=22)

    assert not apply_expiry_warning(registry.ingress)
    report = check_dependencies(registry)

    assert report.item("certificate").ok
    assert fresh(registry.ingress).status_message == "The TLS certificate is valid."


def test_an_expired_certificate_says_so():
    registry = factories.registry()
    observed(registry, days_left=-1, ready=False)

    check_dependencies(registry)

    assert "expired on" in fresh(registry.ingress).status_message


def test_a_certificate_not_issued_never_holds_the_rollout():
    registry = factories.registry()
    ingress = registry.ingress
    ingress.record_check(
        BindingStatus.MISCONFIGURED, "The TLS certificate is not issued.", WhoseMove.CUSTOMER
    )
    ingress.save()

    item = check_dependencies(registry).item("certificate")

    assert item.status == BindingStatus.MISCONFIGURED and not item.holds_rollout


def test_expiring_certificates_lists_live_registries_soonest_first():
    later, sooner, far = factories.registry(), factories.registry(), factories.registry()
    observed(later, days_left=15)
    observed(sooner, days_left=3)
    observed(far, days_left=60)
    gone = factories.registry()
    observed(gone, days_left=1)
    registries.delete(gone, actor=None, via=Via.SYSTEM)

    found = [binding.registry_id for binding in expiring_certificates()]

    assert found == [sooner.pk, later.pk]
    assert Registry.objects.get(pk=gone.pk).desired_state == DesiredState.DELETED
    assert [b.registry_id for b in expiring_certificates(days=90)] == [sooner.pk, later.pk, far.pk]


def test_each_run_reading_a_ready_certificate_keeps_the_expiry_warning_and_its_start():
    registry = factories.registry()
    not_after = timezone.now() + timedelta(days=10)
    certificate = CertificateState(present=True, ready=True, not_after=not_after)

    record_certificate(registry.ingress, certificate)
    first = fresh(registry.ingress)
    record_certificate(fresh(registry.ingress), certificate)
    second = fresh(registry.ingress)

    for ingress in (first, second):
        assert ingress.status == BindingStatus.DEGRADED and ingress.whose_move == WhoseMove.PROVIDER
        assert f"expires on {not_after:%Y-%m-%d}" in ingress.status_message
    assert second.status_since == first.status_since, "the warning is not recorded afresh on every run"
    assert second.last_checked_at >= first.last_checked_at
    assert second.certificate_ready and second.certificate_not_after == not_after


def test_a_renewed_certificate_clears_the_expiry_warning():
    registry = factories.registry()
    record_certificate(
        registry.ingress,
        CertificateState(present=True, ready=True, not_after=timezone.now() + timedelta(days=5)),
    )
    renewed = timezone.now() + timedelta(days=90)

    record_certificate(fresh(registry.ingress), CertificateState(present=True, ready=True, not_after=renewed))

    ingress = fresh(registry.ingress)
    assert ingress.status == BindingStatus.OK
    assert ingress.status_message == f"The TLS certificate is valid until {renewed:%Y-%m-%d}."
