"""A cluster the console cannot read is reported as Unknown, never as facts; what it learns of the API server is
recorded on the cluster, cheaply.

Each cause of an unreadable cluster is a real one against the emulator (a real HTTP server): 5xx answers, a
refusal (403), requests that time out, and nothing listening at all.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from provisioning.choices import BindingStatus, ClusterHealth, ErrorClass, Phase, WhoseMove
from provisioning.models import Cluster, IngressBinding
from provisioning.reconcile import reconcile
from provisioning.reconcile.contact import Contact, contact_of
from provisioning.reconcile.errors import Failure
from tests import factories
from tests.engine.helpers import condition

pytestmark = pytest.mark.django_db(transaction=True)

CAUSES = {
    "503": ("ApiUnavailable", WhoseMove.TRANSIENT, "answered 503"),
    "403": ("ApiForbidden", WhoseMove.PROVIDER, "answered 403"),
    "timeout": ("ClusterUnreachable", WhoseMove.TRANSIENT, "could not be reached"),
    "nothing-listening": ("ClusterUnreachable", WhoseMove.TRANSIENT, "could not be reached"),
}


def make_unreadable(cause: str, kube_emulator, cluster: Cluster, settings) -> None:
    if cause == "503":
        kube_emulator.set_faults(error_rate=1.0, codes=(503,), verbs=["list"])
    elif cause == "403":
        kube_emulator.set_faults(error_rate=1.0, codes=(403,), verbs=["list"])
    elif cause == "timeout":
        settings.KUBE_REQUEST_TIMEOUT_SECONDS = 0.3
        kube_emulator.set_faults(error_rate=0.0, latency_ms=1500, verbs=["list"])
    else:
        Cluster.objects.filter(pk=cluster.pk).update(api_url="http://127.0.0.1:9")  # discard port: refused


@pytest.mark.parametrize("cause", list(CAUSES))
def test_an_unreadable_cluster_is_unknown_with_its_cause_and_the_last_facts_are_kept(
    cause, make_emulated_cluster, kube_emulator, settings
):
    cluster = make_emulated_cluster()
    registry = factories.registry(cluster=cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    before = {c.kind: c for c in registry.components.all()}
    certificate_until = IngressBinding.objects.get(registry=registry).certificate_not_after
    reason, move, said = CAUSES[cause]

    make_unreadable(cause, kube_emulator, cluster, settings)
    outcome = reconcile(registry.pk)

    registry.refresh_from_db()
    assert outcome.phase != Phase.READY and registry.phase != Phase.READY
    assert registry.phase == (Phase.FAILED if move == WhoseMove.PROVIDER else Phase.DEGRADED)
    available = condition(registry, "Available")
    assert (available["status"], available["reason"], available["whose_move"]) == ("Unknown", reason, move)
    assert said in available["message"] and "No workload" not in available["message"]
    assert "Last observed" in available["message"] and available["last_observed"]["status"] == "True"
    dependencies = condition(registry, "DependenciesReady")
    assert (
        dependencies["status"] == "Unknown" and "TLS certificate could not be seen" in dependencies["message"]
    )
    assert condition(registry, "Progressing")["status"] == "Unknown"
    for component in registry.components.all():
        assert component.available is None, f"{component.kind} must not claim a state nobody saw"
        assert component.message.startswith("Not known since ")
        assert "Last observed: Available." in component.message
        kept = before[component.kind]
        assert (component.ready_replicas, component.observed_at) == (kept.ready_replicas, kept.observed_at)
    ingress = IngressBinding.objects.get(registry=registry)
    assert ingress.status == BindingStatus.UNKNOWN and ingress.status_message.startswith(
        "The TLS certificate is not seen"
    )
    assert ingress.certificate_not_after == certificate_until
    cluster.refresh_from_db()
    assert cluster.api_reachable is False and said in cluster.last_error
    assert cluster.last_error_at is not None
    assert cluster.health().state == ClusterHealth.UNREACHABLE

    kube_emulator.clear_faults()
    Cluster.objects.filter(pk=cluster.pk).update(api_url=kube_emulator.url)
    settings.KUBE_REQUEST_TIMEOUT_SECONDS = 10
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    assert all(component.available for component in registry.components.all())
    assert condition(registry, "Available")["status"] == "True"
    assert IngressBinding.objects.get(registry=registry).status == BindingStatus.OK
    cluster.refresh_from_db()
    assert cluster.api_reachable is True and cluster.health().state == ClusterHealth.HEALTHY


def test_what_a_run_learns_of_the_api_server_is_one_update_and_none_while_nothing_changed(
    make_emulated_cluster, kube_emulator
):
    cluster = make_emulated_cluster()
    registry = factories.registry(cluster=cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    cluster.refresh_from_db()
    assert cluster.api_reachable is True and cluster.api_latency_ms is not None
    assert cluster.last_list_at == cluster.last_contact_at is not None

    def cluster_updates() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            reconcile(registry.pk)
        return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "provisioning_cluster"')]

    assert cluster_updates() == []  # the row says the same, and recently: no write
    long_ago = timezone.now() - timedelta(minutes=5)
    Cluster.objects.filter(pk=cluster.pk).update(last_contact_at=long_ago)
    assert len(cluster_updates()) == 1
    cluster.refresh_from_db()
    assert cluster.last_contact_at > long_ago

    kube_emulator.set_faults(error_rate=1.0, codes=(503,), verbs=["list"])
    assert len(cluster_updates()) == 1  # the news: unreachable
    assert cluster_updates() == []  # the same error again, moments later: no write


def test_only_what_says_something_of_the_api_server_is_recorded_as_its_state():
    refused = Failure(
        ErrorClass.API_FORBIDDEN, False, WhoseMove.PROVIDER, "ApiForbidden", "403 being terminated."
    )
    silent = Failure(
        ErrorClass.CLUSTER_UNREACHABLE, True, WhoseMove.TRANSIENT, "ClusterUnreachable", "Timed out."
    )
    assert contact_of(refused, None, listed=False) == Contact(False, error="403 being terminated.")
    assert contact_of(refused, 12.5, listed=True) == Contact(
        True, latency_ms=12.5, listed=True
    )  # one object's
    assert contact_of(silent, 12.5, listed=True) == Contact(False, error="Timed out.")
    assert contact_of(None, None, listed=False) is None  # never got to ask
