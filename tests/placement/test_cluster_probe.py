"""The periodic probe keeps a cluster no reconciliation contacts (typically an empty one) known to placement: usable
while its API server answers, unreachable with the reason when it does not; a cluster whose registries' runs
contacted it recently is not asked again."""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kubeemulator import KubeEmulator
from provisioning.choices import Phase
from provisioning.models import Cluster
from provisioning.reconcile import reconcile
from provisioning.services import cluster_probe, cluster_usability
from provisioning.tasks import probe_clusters
from tests import factories
from tests.placement.clusters import contacted

pytestmark = pytest.mark.django_db(transaction=True)


def requests(emulator: KubeEmulator) -> int:
    """Every request the emulated API server received, discovery (such as ``/version``) included."""
    stats = emulator.stats()
    return int(stats["total"] + stats["discovery"])


def aged(cluster: Cluster, minutes: float, prerequisites: bool = True) -> Cluster:
    """``cluster`` as if its last contact (and, with ``prerequisites``, their check) were ``minutes`` old."""
    then = timezone.now() - timedelta(minutes=minutes)
    values = {"last_contact_at": then} | ({"prerequisites_checked_at": then} if prerequisites else {})
    Cluster.objects.filter(pk=cluster.pk).update(**values)
    cluster.refresh_from_db()
    return cluster


def test_an_empty_cluster_stays_usable_across_sweeps_thanks_to_the_probe(
    make_emulated_cluster, kube_emulator
):
    empty = contacted(make_emulated_cluster())
    # Saved 16 minutes ago, nothing contacted it since: placement calls it Unknown (the fault).
    empty = aged(empty, 16)
    assert cluster_usability.usability(empty).state == cluster_usability.UNKNOWN

    for _ in range(3):  # three sweeps' probes
        assert cluster_probe.probe_quiet_clusters() == {"probed": 1, "reachable": 1, "unreachable": 0}
        empty.refresh_from_db()
        assert cluster_usability.usability(empty).usable, cluster_usability.usability(empty).reason
        assert empty.api_reachable is True and empty.api_latency_ms is not None
        empty = aged(empty, 11)  # the next probe finds it quiet again

    # Within the probe interval it is not asked again.
    Cluster.objects.filter(pk=empty.pk).update(last_contact_at=timezone.now())
    kube_emulator.reset_stats()
    assert cluster_probe.probe_quiet_clusters()["probed"] == 0
    assert requests(kube_emulator) == 0


def test_a_probe_is_one_version_request_while_the_prerequisite_check_is_fresh(
    make_emulated_cluster, kube_emulator
):
    empty = aged(contacted(make_emulated_cluster()), 16, prerequisites=False)
    kube_emulator.reset_stats()

    assert cluster_probe.probe_quiet_clusters()["reachable"] == 1

    assert requests(kube_emulator) == 1  # GET /version; the prerequisites were checked under 5 minutes ago
    empty.refresh_from_db()
    assert cluster_usability.usability(empty).usable


def test_a_stopped_api_server_makes_the_empty_cluster_unreachable_with_the_reason(make_emulated_cluster):
    emulator = KubeEmulator(port=0, ready_delay=0, namespace_drain_delay=0).start()
    empty = aged(contacted(make_emulated_cluster(api_url=emulator.url)), 16)
    emulator.stop()

    assert cluster_probe.probe_quiet_clusters() == {"probed": 1, "reachable": 0, "unreachable": 1}

    empty.refresh_from_db()
    verdict = cluster_usability.usability(empty)
    assert verdict.state == cluster_usability.UNUSABLE
    assert empty.api_reachable is False and empty.last_error and empty.last_error_at
    assert "not reachable since" in verdict.reason and empty.last_error[:40] in verdict.reason


def test_one_clusters_failure_does_not_stop_the_others(make_emulated_cluster, kube_emulator):
    broken = aged(factories.cluster(api_url="http://127.0.0.1:1"), 16)  # nothing listens there
    bad_config = factories.cluster(api_url="", kubeconfig="not: [a kubeconfig")
    empty = aged(contacted(make_emulated_cluster()), 16)

    counts = cluster_probe.probe_quiet_clusters()

    assert counts == {"probed": 3, "reachable": 1, "unreachable": 2}
    for cluster in (broken, bad_config):
        cluster.refresh_from_db()
        assert cluster.api_reachable is False and cluster.last_error
    empty.refresh_from_db()
    assert cluster_usability.usability(empty).usable


def test_a_cluster_whose_registries_were_reconciled_is_not_probed_again(
    make_emulated_cluster, kube_emulator, operator
):
    second = KubeEmulator(port=0, ready_delay=0, namespace_drain_delay=0).start()
    try:
        busy = aged(contacted(make_emulated_cluster()), 16)
        empty = aged(contacted(make_emulated_cluster(api_url=second.url)), 16, prerequisites=False)
        registry = factories.registry(cluster=busy)
        assert reconcile(registry.pk).phase == Phase.READY  # the sweep's run records its contact
        kube_emulator.reset_stats()
        second.reset_stats()

        with CaptureQueriesContext(connection) as selecting:
            due = list(cluster_probe.quiet_clusters())
        assert len(selecting.captured_queries) == 1
        assert [cluster.pk for cluster in due] == [empty.pk]

        assert cluster_probe.probe_quiet_clusters()["probed"] == 1
        assert requests(kube_emulator) == 0
        assert requests(second) == 1  # GET /version: its prerequisites were checked under 5 minutes ago
    finally:
        second.stop()


@pytest.fixture
def queue():
    name = f"test-{factories.RUN}-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(name)


def test_the_beat_task_sends_one_expiring_probe_per_quiet_cluster_to_its_queue(queue):
    quiet = factories.cluster(queue=queue)
    factories.observed_cluster(queue=queue)  # contacted just now: not probed

    assert probe_clusters() == 1

    sent = []
    for raw in redis.Redis.from_url(django_settings.CELERY_BROKER_URL).lrange(queue, 0, -1):
        message = json.loads(raw)
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        sent.append((message["headers"]["task"], args, message["headers"]["expires"]))
    assert [(task, args) for task, args, _ in sent] == [("provisioning.tasks.probe_cluster", [quiet.pk])]
    assert sent[0][2] is not None
    assert "cluster-probe" in django_settings.CELERY_BEAT_SCHEDULE


def test_a_worker_on_the_clusters_queue_carries_out_the_probe(
    make_emulated_cluster, kube_emulator, celery_worker
):
    empty = aged(contacted(make_emulated_cluster(queue=celery_worker.queue)), 16)
    assert cluster_usability.usability(empty).state == cluster_usability.UNKNOWN

    assert probe_clusters.apply().get() == 1

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        empty.refresh_from_db()
        if cluster_usability.usability(empty).usable:
            break
        time.sleep(0.2)
    assert cluster_usability.usability(empty).usable, celery_worker.log()[-2000:]
