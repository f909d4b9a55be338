"""A cluster's health is what was observed, and Unknown without recent evidence."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from provisioning.choices import ClusterHealth
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_cluster_never_contacted_is_unknown_not_healthy():
    cluster = factories.cluster()
    assert cluster.health().state == ClusterHealth.UNKNOWN


def test_a_recent_contact_with_every_prerequisite_is_healthy():
    now = timezone.now()
    cluster = factories.cluster()
    cluster.api_reachable, cluster.last_contact_at = True, now
    cluster.prerequisites = [
        {"kind": "CustomResourceDefinition", "name": "certificates.cert-manager.io", "present": True}
    ]
    assert cluster.health(now).state == ClusterHealth.HEALTHY


def test_a_stale_contact_is_unknown(settings):
    now = timezone.now()
    cluster = factories.cluster()
    cluster.api_reachable = True
    cluster.last_contact_at = now - timedelta(seconds=3 * settings.SWEEP_INTERVAL_SECONDS + 1)
    health = cluster.health(now)
    assert health.state == ClusterHealth.UNKNOWN and "not current" in health.reasons[0]


def test_a_failed_contact_is_unreachable_with_its_error():
    now = timezone.now()
    cluster = factories.cluster()
    cluster.api_reachable, cluster.last_error, cluster.last_error_at = False, "connection refused", now
    health = cluster.health(now)
    assert health.state == ClusterHealth.UNREACHABLE and health.reasons == ["connection refused"]


@pytest.mark.parametrize("present", [False, None])
def test_a_missing_or_unchecked_prerequisite_degrades_it(present):
    now = timezone.now()
    cluster = factories.cluster()
    cluster.api_reachable, cluster.last_contact_at = True, now
    cluster.prerequisites = [
        {
            "kind": "ClusterIssuer",
            "name": "letsencrypt",
            "present": present,
            "message": "ClusterIssuer letsencrypt is missing.",
        }
    ]
    health = cluster.health(now)
    assert health.state == ClusterHealth.DEGRADED and health.reasons == [
        "ClusterIssuer letsencrypt is missing."
    ]
