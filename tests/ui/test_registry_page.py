"""A registry's page: status in words, components, external services, objects, history, timeline; no secret."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from provisioning import audit
from provisioning.choices import ComponentKind, ErrorClass, ResourceState, RunStatus, Via, WhoseMove
from provisioning.models import ManagedResource, ReconcileRun
from provisioning.services.secrets import ensure_registry_secrets
from tests import factories

pytestmark = pytest.mark.django_db


def page(client, registry) -> str:
    response = client.get(reverse("provisioning:registry-detail", args=[registry.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_conditions_in_words_with_since_and_whose_move(viewer_client, degraded_registry):
    body = page(viewer_client, degraded_registry)
    assert "What is wrong" in body
    assert "Dependencies:</strong> The PostgreSQL database did not answer within 3 s" in body
    assert "Provider&#x27;s move" in body
    assert "7\xa0minutes ago" in body or "7 minutes ago" in body
    assert "<code>DatabaseUnreachable</code>" in body
    assert 'class="badge badge-warn"' in body and ">Degraded<" in body


def test_component_chips_carry_readiness_and_message(viewer_client):
    registry = factories.registry()
    core = registry.components.get(kind=ComponentKind.CORE)
    core.ready_replicas, core.available, core.observed_at = 0, False, timezone.now()
    core.message = "0 of 2 replicas ready: CrashLoopBackOff on harbor-core"
    core.save()
    body = page(viewer_client, registry)
    assert 'class="comp-chip comp-bad" tabindex="0"' in body
    assert 'role="tooltip"' in body and "CrashLoopBackOff on harbor-core" in body
    assert "Core</span>" in body and "0/2" in body


def test_a_component_nobody_could_see_is_unknown_never_available(viewer_client):
    registry = factories.registry()
    core = registry.components.get(kind=ComponentKind.CORE)
    core.ready_replicas, core.available, core.observed_at = 2, None, timezone.now()
    core.message = (
        "Not known since 2026-05-01 12:05 UTC: the cluster could not be read (503). Last observed: Available."
    )
    core.save()
    body = page(viewer_client, registry)
    assert 'class="comp-chip comp-unknown" tabindex="0"' in body
    assert '<span class="comp-mark" aria-hidden="true">?</span>' in body
    assert "Not known since 2026-05-01 12:05 UTC" in body and "comp-ok" not in body


def test_external_services_show_status_and_never_a_secret(viewer_client, degraded_registry):
    registry = degraded_registry
    registry.database.password = "db-password-never-shown"
    registry.database.host = "pg.internal"
    registry.database.save()
    registry.cache.password = "cache-password-never-shown"
    registry.cache.save()
    registry.storage.secret_key = "s3-secret-never-shown"
    registry.storage.save()
    secrets = ensure_registry_secrets(registry)
    body = page(viewer_client, registry)
    assert "Connection timed out after 3 s." in body
    assert "3000.0 ms" in body and "pg.internal" in body
    for secret in ("db-password-never-shown", "cache-password-never-shown", "s3-secret-never-shown"):
        assert secret not in body
    for value in secrets.values():
        assert value.splitlines()[0] not in body


def test_simulated_cluster_is_said_plainly(viewer_client):
    simulated = factories.registry(cluster=factories.cluster(simulated=True))
    real = factories.registry(cluster=factories.cluster(simulated=False))
    assert "Simulated cluster (Kubernetes API emulator)." in page(viewer_client, simulated)
    assert "Kubernetes API emulator" not in page(viewer_client, real)


def test_objects_with_drift_history_and_timeline(viewer_client, operator):
    registry = factories.registry()
    ManagedResource.objects.create(
        registry=registry,
        api_version="apps/v1",
        kind="Deployment",
        namespace=registry.namespace,
        name=f"{registry.name}-core",
        state=ResourceState.DRIFTED,
        message="spec.replicas differs",
    )
    ManagedResource.objects.create(
        registry=registry,
        api_version="v1",
        kind="Service",
        namespace=registry.namespace,
        name=f"{registry.name}-portal",
        state=ResourceState.APPLIED,
    )
    run = registry.runs.get()
    now = timezone.now()
    ReconcileRun.objects.filter(pk=run.pk).update(
        status=RunStatus.FAILED,
        started_at=now,
        finished_at=now,
        duration_ms=1234.0,
        error_class=ErrorClass.API_UNAVAILABLE,
        error_message="The API server answered 503 three times.",
        whose_move=WhoseMove.TRANSIENT,
    )
    audit.record(operator, Via.UI, "suspend", registry, changes={"desired_state": ["running", "suspended"]})
    body = page(viewer_client, registry)
    assert "1 object drifted" in body and "spec.replicas differs" in body
    assert f"{registry.name}-portal" in body
    assert "API_UNAVAILABLE" in body and "The API server answered 503 three times." in body
    assert "Transient — retried automatically" in body and "1.2 s" in body
    timeline = body[body.index("Timeline") :]
    assert "Suspend (Web console)" in timeline and "desired_state: running → suspended" in timeline
    assert f"Run #{run.pk} (registry created) failed" in timeline
    assert timeline.index("Suspend (Web console)") < timeline.index("Create (System)")


def test_monitoring_panel_is_loaded_by_htmx(viewer_client):
    registry = factories.registry()
    body = page(viewer_client, registry)
    assert f'hx-get="/monitoring/registries/{registry.pk}/panel" hx-trigger="load"' in body


LIVE = 'data-live hx-get="{url}" hx-trigger="every 5s, live-refresh'


@pytest.mark.parametrize("phase", ["Provisioning", "Ready", "Degraded", "Failed", "Suspended", "Deleted"])
def test_the_live_region_refreshes_in_every_state_header_included(viewer_client, phase):
    registry = factories.registry()
    registry.phase = phase
    registry.save(update_fields=["phase"])
    url = reverse("provisioning:registry-status", args=[registry.pk])
    live = viewer_client.get(url).content.decode()
    assert LIVE.format(url=url) in live  # polled whatever the phase, Degraded and Failed included
    assert "<html" not in live
    assert f"<h1>{registry.tenant.slug}/{registry.name}</h1>" in live  # the header's facts refresh too
    assert "Generation</dt><dd>1" in live and f"{registry.harbor_version}</dd>" in live
    assert 'id="status"' in live and 'id="health"' in live


def test_an_unchanged_live_region_answers_204_and_a_changed_one_its_new_content(viewer_client):
    registry = factories.registry()
    url = reverse("provisioning:registry-status", args=[registry.pk])
    first = viewer_client.get(url).content.decode()
    digest = first.split('"X-Live-Digest": "')[1].split('"')[0]
    poll = {"HX-Request": "true", "HX-Trigger": "registry-live", "HX-Target": "registry-live"}
    unchanged = viewer_client.get(url, headers={**poll, "X-Live-Digest": digest})
    assert unchanged.status_code == 204 and unchanged.content == b""
    registry.generation = 7
    registry.save(update_fields=["generation"])
    changed = viewer_client.get(url, headers={**poll, "X-Live-Digest": digest})
    assert changed.status_code == 200 and "Generation</dt><dd>7" in changed.content.decode()
    other = changed.content.decode().split('"X-Live-Digest": "')[1].split('"')[0]
    assert other != digest
    not_a_poll = viewer_client.get(url, headers={"HX-Request": "true", "X-Live-Digest": other})
    assert not_a_poll.status_code == 200  # only the region polling itself may get "nothing changed"


def test_run_status_polls_until_the_run_ends_then_tells_the_page(viewer_client):
    registry = factories.registry()
    run = registry.runs.get()
    url = reverse("provisioning:run-status", args=[registry.pk, run.pk])
    queued = viewer_client.get(url)
    assert 'hx-trigger="every 1500ms" hx-swap="outerHTML" data-live' in queued.content.decode()
    assert "Waiting for a worker" in queued.content.decode()
    assert "HX-Trigger" not in queued
    ReconcileRun.objects.filter(pk=run.pk).update(
        status=RunStatus.SUCCEEDED, finished_at=timezone.now(), duration_ms=850.0, created=41, unchanged=0
    )
    done = viewer_client.get(url)
    assert "every 1500ms" not in done.content.decode()
    assert "Done in 850 ms: 41 created, 0 updated, 0 unchanged, 0 deleted." in done.content.decode()
    assert done["HX-Trigger"] == "run-finished"
    other = factories.registry()
    assert viewer_client.get(reverse("provisioning:run-status", args=[other.pk, run.pk])).status_code == 404


def test_activity_is_live_and_refreshes_at_once_when_a_run_ends_and_a_stopped_registry_is_not_a_problem(
    viewer_client,
):
    registry = factories.registry()
    url = reverse("provisioning:registry-activity", args=[registry.pk])
    body = viewer_client.get(url).content.decode()
    assert LIVE.format(url=url) + ', run-finished from:body"' in body
    assert "Reconcile history" in body and "<html" not in body
    registry.desired_state = "suspended"
    registry.conditions = [
        {"type": "Available", "status": "False", "reason": "Suspended", "message": "The registry is suspended.",
         "whose_move": "", "since": timezone.now().isoformat()},
    ]  # fmt: skip
    registry.phase = "Suspended"
    registry.save()
    status = viewer_client.get(reverse("provisioning:registry-status", args=[registry.pk]))
    assert "What is wrong" not in status.content.decode()
    assert "Not running: the registry is suspended." in status.content.decode()
