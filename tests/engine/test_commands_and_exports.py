"""From a shell: reconcile registries, print their manifests or Helm values; no secret is ever printed."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import CommandError, call_command

from provisioning.choices import Phase, RunStatus, RunTrigger, Via
from provisioning.models import AuditEvent, DatabaseBinding, ReconcileRun
from provisioning.reconcile import export_helm_values, export_manifests_yaml, reconcile
from provisioning.rendering import REDACTED
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registry(emulated_cluster):
    registry = factories.registry(cluster=emulated_cluster)
    assert reconcile(registry.pk).phase == Phase.READY
    registry.refresh_from_db()
    return registry


def every_secret_value(registry) -> list[str]:
    values = [secret.value for secret in registry.secrets.all()]
    values += [registry.database.password, registry.cache.password, registry.storage.secret_key]
    return [value for value in values if value]


def run_command(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_manifests_print_as_yaml_with_every_secret_value_redacted(registry):
    text = run_command("render_manifests", f"{registry.tenant.slug}/{registry.name}")
    documents = list(yaml.safe_load_all(text))
    assert documents[0]["kind"] == "Namespace"
    assert {"Deployment", "StatefulSet", "Secret", "Ingress", "Certificate"} <= {d["kind"] for d in documents}
    secrets = [d for d in documents if d["kind"] == "Secret"]
    assert secrets and all(set(d["data"].values()) == {REDACTED} for d in secrets)
    for value in every_secret_value(registry):
        assert value not in text
    assert text == export_manifests_yaml(registry)


def test_the_helm_values_print_without_a_secret(registry):
    text = run_command("render_manifests", str(registry.pk), "--helm-values")
    values = yaml.safe_load(text)
    assert values["externalURL"] == registry.external_url
    assert values["harborAdminPassword"] == REDACTED
    for value in every_secret_value(registry):
        assert value not in text
    assert text == export_helm_values(registry)


def test_a_registry_that_cannot_be_rendered_yet_says_why():
    registry = factories.registry()
    DatabaseBinding.objects.filter(registry=registry).update(host="")
    with pytest.raises(CommandError, match="cannot be rendered yet: database host is empty"):
        run_command("render_manifests", str(registry.pk))


def test_reconcile_sync_runs_here_and_prints_the_outcome(registry):
    text = run_command("reconcile", str(registry.pk), "--sync")
    assert f"{registry}: succeeded" in text and "phase Ready" in text
    run = ReconcileRun.objects.filter(registry=registry).latest("pk")
    assert (run.trigger, run.status, run.created, run.updated) == (
        RunTrigger.MANUAL,
        RunStatus.SUCCEEDED,
        0,
        0,
    )
    assert f"{run.unchanged} unchanged" in text


def test_reconcile_sync_fails_the_command_when_a_run_fails(registry, kube_emulator):
    kube_emulator.set_faults(codes=(503,))
    with pytest.raises(CommandError, match="1 of 1 registries did not reconcile"):
        run_command("reconcile", str(registry.pk), "--sync")


def test_reconcile_queues_runs_and_the_audit_says_it_came_from_the_command_line(registry):
    text = run_command("reconcile", f"{registry.tenant.slug}/{registry.name}")
    run = ReconcileRun.objects.filter(registry=registry, status=RunStatus.QUEUED).get()
    assert f"run {run.pk} queued on {registry.cluster.queue}" in text
    event = AuditEvent.objects.filter(registry=registry, action="reconcile").get()
    assert event.via == Via.CLI

    other = factories.registry(cluster=registry.cluster)
    text = run_command("reconcile", "--all")
    assert str(registry) in text and str(other) in text


@pytest.mark.parametrize(
    ("args", "says"), [((), "Name one registry"), (("nobody/nothing",), "No registry"), (("x",), "neither")]
)
def test_reconcile_refuses_what_it_cannot_find(args, says):
    with pytest.raises(CommandError, match=says):
        run_command("reconcile", *args)
