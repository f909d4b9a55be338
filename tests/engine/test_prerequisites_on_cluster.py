"""A missing prerequisite is named, the provider's move, and not retried in a loop; a present one costs nothing.

The emulator started ``bare`` is a cluster nothing was installed on: no cert-manager CRDs, no ClusterIssuer, no
IngressClass, no StorageClass. Installing them (the seed an installed cluster starts with) is what the provider does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from kubernetes import client

from kubeemulator import KubeEmulator, seed
from provisioning.choices import ClusterHealth, ErrorClass, Phase, RunStatus, Via, WhoseMove
from provisioning.kube.gateway import close_gateways
from provisioning.models import Cluster
from provisioning.reconcile import reconcile
from provisioning.services.clusters import save_cluster
from tests import factories
from tests.engine.helpers import condition, run_of, someone_else

pytestmark = pytest.mark.django_db(transaction=True)

PREREQUISITE_KINDS = {"IngressClass", "StorageClass", "ClusterIssuer", "CustomResourceDefinition"}


@pytest.fixture
def bare_emulator() -> Iterator[KubeEmulator]:
    emulator = KubeEmulator(port=0, bare=True, ready_delay=0, namespace_drain_delay=0).start()
    try:
        yield emulator
    finally:
        emulator.stop()
        close_gateways()


@pytest.fixture
def bare_cluster(bare_emulator, postgres_admin_url, s3_server) -> Cluster:
    return factories.cluster(
        api_url=bare_emulator.url,
        database_admin_url=postgres_admin_url,
        s3_endpoint=s3_server.endpoint,
        s3_region=s3_server.region,
        s3_access_key=s3_server.access_key,
        s3_secret_key=s3_server.secret_key,
        egress_cidrs=["127.0.0.1/32"],
    )


def test_a_cluster_without_cert_manager_says_which_prerequisite_is_missing(bare_cluster, bare_emulator):
    registry = factories.registry(cluster=bare_cluster)

    outcome = reconcile(registry.pk)

    run = run_of(outcome)
    assert (run.status, run.error_class, run.whose_move) == (
        RunStatus.FAILED,
        ErrorClass.PREREQUISITE_MISSING,
        WhoseMove.PROVIDER,
    )
    assert not outcome.should_retry
    for missing in ("certificates.cert-manager.io", "ClusterIssuer letsencrypt", "IngressClass nginx"):
        assert missing in run.error_message
    registry.refresh_from_db()
    applied = condition(registry, "ResourcesApplied")
    assert (applied["status"], applied["reason"], applied["whose_move"]) == (
        "False",
        "PrerequisiteMissing",
        WhoseMove.PROVIDER,
    )
    assert "certificates.cert-manager.io is not installed" in applied["message"]
    assert condition(registry, "DependenciesReady")["status"] != "True"
    assert "could not be read" not in str(registry.conditions)
    bare_cluster.refresh_from_db()
    assert bare_cluster.health().state == ClusterHealth.DEGRADED
    assert not [
        obj for obj in bare_emulator.objects("Namespace") if obj["metadata"]["name"] == registry.namespace
    ]


def test_once_the_provider_installs_them_the_next_run_goes_ahead(bare_cluster, bare_emulator):
    registry = factories.registry(cluster=bare_cluster)
    assert run_of(reconcile(registry.pk)).error_class == ErrorClass.PREREQUISITE_MISSING

    seed.install(bare_emulator.store)

    assert reconcile(registry.pk).phase == Phase.READY


def test_a_converged_stack_does_not_check_them_again_on_every_run(emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    emulated_cluster.refresh_from_db()
    assert {item["kind"] for item in emulated_cluster.prerequisites} >= PREREQUISITE_KINDS - {"ClusterIssuer"}

    kube_emulator.reset_stats()
    assert reconcile(registry.pk).status == RunStatus.SUCCEEDED

    read_kinds = set(kube_emulator.stats()["by_kind"])
    assert not read_kinds & PREREQUISITE_KINDS, read_kinds


def test_a_stack_whose_crd_was_removed_is_told_so_at_once(emulated_cluster, kube_emulator):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    extensions = client.ApiextensionsV1Api(someone_else(kube_emulator))
    extensions.delete_custom_resource_definition("certificates.cert-manager.io")

    run = run_of(reconcile(registry.pk))

    assert run.error_class == ErrorClass.PREREQUISITE_MISSING, run.error_message
    assert "certificates.cert-manager.io" in run.error_message


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("ingress_class", "traefik", "IngressClass traefik does not exist"),
        ("storage_class", "fast-ssd", "StorageClass fast-ssd does not exist"),
        ("cert_issuer", "internal-ca", "ClusterIssuer internal-ca does not exist"),
    ],
)
def test_saving_a_cluster_that_names_a_missing_prerequisite_is_refused_on_its_field(
    setting, value, said, emulated_cluster
):
    cluster = Cluster.objects.get(pk=emulated_cluster.pk)
    before = getattr(cluster, setting)
    setattr(cluster, setting, value)

    with pytest.raises(ValidationError) as refused:
        save_cluster(cluster, actor=None, via=Via.SYSTEM)

    assert said in " ".join(refused.value.message_dict[setting])
    assert getattr(Cluster.objects.get(pk=cluster.pk), setting) == before


def test_saving_a_cluster_records_what_it_found(emulated_cluster):
    cluster = Cluster.objects.get(pk=emulated_cluster.pk)
    cluster.storage_class = "standard"

    save_cluster(cluster, actor=None, via=Via.SYSTEM)

    stored = Cluster.objects.get(pk=cluster.pk)
    found = {(item["kind"], item["name"]): item["present"] for item in stored.prerequisites}
    assert found[("StorageClass", "standard")] is True
    assert found[("ClusterIssuer", "letsencrypt")] is True
    assert stored.prerequisites_checked_at is not None


def test_saving_a_bare_cluster_names_cert_manager_on_the_issuer(bare_cluster):
    cluster = Cluster.objects.get(pk=bare_cluster.pk)
    cluster.cert_issuer = "letsencrypt-staging"

    with pytest.raises(ValidationError) as refused:
        save_cluster(cluster, actor=None, via=Via.SYSTEM)

    assert "install cert-manager" in " ".join(refused.value.message_dict["cert_issuer"])


def test_an_outage_does_not_block_a_prerequisite_edit_and_the_next_run_checks_again(
    emulated_cluster, kube_emulator
):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    cluster = Cluster.objects.get(pk=emulated_cluster.pk)
    cluster.ingress_class = "traefik"
    kube_emulator.set_faults(error_rate=1.0, codes=(503,))

    saved = save_cluster(cluster, actor=None, via=Via.SYSTEM)

    assert any("prerequisites could not be checked" in warning for warning in saved.warnings), saved.warnings
    assert Cluster.objects.get(pk=cluster.pk).ingress_class == "traefik"
    kube_emulator.set_faults(error_rate=0.0)
    run = run_of(reconcile(registry.pk))
    assert run.error_class == ErrorClass.PREREQUISITE_MISSING and "IngressClass traefik" in run.error_message
