"""Manifest preview: an edit shown as per-object diffs against what the engine last applied, nothing saved."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.choices import RunStatus
from provisioning.models import AuditEvent, ManagedResource
from provisioning.reconcile import reconcile
from provisioning.services.secrets import ensure_registry_secrets
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied_registry(emulated_cluster):
    """A registry the real engine has reconciled once on the emulator, so its applied manifests are recorded."""
    registry = factories.registry(cluster=emulated_cluster, harbor_version="2.14.4")
    outcome = reconcile(registry.pk, run_id=registry.runs.get().pk)
    assert outcome.status == RunStatus.SUCCEEDED, outcome
    registry.refresh_from_db()
    assert ManagedResource.objects.filter(registry=registry).exclude(manifest={}).exists()
    return registry


def edit(client, registry, **changes):
    data = {"plan": registry.plan_id, "hostname": registry.hostname, "storage_quota_gib": "", "replicas": "",
            "trivy_enabled": "", "parallel_request_limit": "", "preview": "1"}  # fmt: skip
    data.update(changes)
    return client.post(reverse("provisioning:registry-edit", args=[registry.pk]), data)


def test_preview_shows_the_changed_objects_as_diffs_and_saves_nothing(operator_client, applied_registry):
    registry = applied_registry
    response = edit(operator_client, registry, replicas="3")
    assert response.status_code == 200
    body = response.content.decode()
    assert "What saving would apply" in body and "Nothing is saved yet." in body
    assert f"Deployment {registry.namespace}/{registry.name}-core" in body
    assert '<span class="del">-  replicas: 2</span>' in body
    assert '<span class="add">+  replicas: 3</span>' in body
    preview = response.context["preview"]
    assert not preview.added and not preview.removed and preview.unchanged
    core = next(obj for obj in preview.changed if obj.label.endswith(f"{registry.name}-core"))
    edits = [line for css, line in core.diff if css in ("add", "del")]
    assert edits == [
        "-  replicas: 2",
        "+  replicas: 3",
    ]  # only what changes, whatever order the database kept
    registry.refresh_from_db()
    assert registry.replicas is None and registry.generation == 1
    assert not AuditEvent.objects.filter(registry=registry, action="update").exists()


def test_preview_lists_removed_objects_and_never_a_secret(operator_client, applied_registry):
    registry = applied_registry
    response = edit(operator_client, registry, trivy_enabled="false")
    preview = response.context["preview"]
    removed = {obj.kind for obj in preview.removed}
    assert "StatefulSet" in removed
    body = response.content.decode()
    for value in ensure_registry_secrets(registry).values():
        assert value.splitlines()[0] not in body
    registry.database.refresh_from_db()
    assert registry.database.password and registry.database.password not in body


def test_preview_of_an_invalid_change_shows_the_field_error(operator_client, applied_registry):
    response = edit(operator_client, applied_registry, storage_quota_gib="99999")
    assert response.status_code == 400
    assert "preview" not in response.context or response.context["preview"] is None
    assert b"above the Medium plan" in response.content


def test_unchanged_form_previews_no_change(operator_client, applied_registry):
    response = edit(operator_client, applied_registry)
    assert b"No Kubernetes object would change." in response.content


def test_export_yaml_of_an_applied_registry_redacts_secrets(viewer_client, applied_registry):
    response = viewer_client.get(reverse("provisioning:registry-manifests", args=[applied_registry.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    text = response.content.decode()
    assert "kind: Deployment" in text and "<redacted>" in text
    assert applied_registry.database.password not in text
