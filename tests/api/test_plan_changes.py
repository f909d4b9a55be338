"""Changing a plan requeues every live registry on it (after commit, on each cluster's queue) and is audited."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
import redis
from django.conf import settings as django_settings

from provisioning.choices import DesiredState, Phase, RunStatus, RunTrigger, Via
from provisioning.models import AuditEvent, ReconcileRun, Registry
from provisioning.services.errors import ActionRefused
from provisioning.services.plans import update_plan
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue():
    name = f"test-{factories.RUN}-{uuid.uuid4().hex[:8]}"
    yield name
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).delete(name)


def sent_registries(queue: str) -> list[int]:
    """The registry ids of the reconcile messages waiting on ``queue`` in the real broker."""
    ids = []
    for raw in redis.Redis.from_url(django_settings.CELERY_BROKER_URL).lrange(queue, 0, -1):
        message = json.loads(raw)
        assert message["headers"]["task"] == "provisioning.tasks.reconcile_registry"
        args, _, _ = json.loads(base64.b64decode(message["body"]))
        ids.append(args[0])
    return sorted(ids)


@pytest.fixture
def fleet(queue):
    """Registries on one plan in every state, one on another plan; no run left queued."""
    plan, other = factories.plan("s"), factories.plan("l")
    cluster = factories.cluster(queue=queue)
    made = {
        state: factories.registry(plan=plan, cluster=cluster)
        for state in ("ready", "suspended", "deleting", "deleted", "purged")
    }
    made["other_plan"] = factories.registry(plan=other, cluster=cluster)
    Registry.objects.filter(pk=made["ready"].pk).update(phase=Phase.READY)
    Registry.objects.filter(pk=made["suspended"].pk).update(
        desired_state=DesiredState.SUSPENDED, phase=Phase.SUSPENDED
    )
    Registry.objects.filter(pk=made["deleting"].pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETING
    )
    Registry.objects.filter(pk=made["deleted"].pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.DELETED
    )
    Registry.objects.filter(pk=made["purged"].pk).update(
        desired_state=DesiredState.DELETED, phase=Phase.PURGED
    )
    ReconcileRun.objects.update(status=RunStatus.SUCCEEDED)
    generations = dict(Registry.objects.values_list("pk", "generation"))
    return plan, made, generations


def changed_runs() -> list[int]:
    queued = ReconcileRun.objects.filter(status=RunStatus.QUEUED, trigger=RunTrigger.CHANGED)
    return sorted(queued.values_list("registry_id", flat=True))


def test_a_plan_change_through_the_api_requeues_its_live_registries(
    admin_api, admin_user, fleet, queue, django_capture_on_commit_callbacks
):
    plan, made, generations = fleet
    live = sorted([made["ready"].pk, made["suspended"].pk])
    limit = plan.parallel_request_limit + 10

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(
            f"/api/v1/plans/{plan.pk}/", {"parallel_request_limit": limit}, format="json"
        )

    assert response.status_code == 200, response.json()
    assert response.json()["parallel_request_limit"] == limit
    assert changed_runs() == live
    assert sent_registries(queue) == live
    for pk, generation in Registry.objects.values_list("pk", "generation"):
        assert generation == generations[pk] + (1 if pk in live else 0)
    event = AuditEvent.objects.get(action="update", target_type="plan", target_id=str(plan.pk))
    assert (event.actor, event.via) == (admin_user, Via.API)
    assert (
        event.changes["parallel_request_limit"] == [plan.parallel_request_limit, limit]
        and event.changes["registries_requeued"] == 2
    )


def test_changing_only_the_description_requeues_nothing(
    admin_api, fleet, queue, django_capture_on_commit_callbacks
):
    plan, _, generations = fleet

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.patch(
            f"/api/v1/plans/{plan.pk}/", {"description": "For small teams."}, format="json"
        )

    assert response.status_code == 200
    assert changed_runs() == [] and sent_registries(queue) == []
    assert dict(Registry.objects.values_list("pk", "generation")) == generations
    event = AuditEvent.objects.get(action="update", target_type="plan", target_id=str(plan.pk))
    assert event.changes == {"description": ["", "For small teams."]}


def test_a_change_that_changes_nothing_is_neither_audited_nor_requeued(fleet):
    plan, _, _ = fleet
    update_plan(plan, {"replicas": plan.replicas}, actor=None, via=Via.SYSTEM)
    assert changed_runs() == []
    assert not AuditEvent.objects.filter(target_type="plan", target_id=str(plan.pk)).exists()


def test_a_registry_already_queued_is_not_queued_twice(fleet, django_capture_on_commit_callbacks):
    plan, made, _ = fleet
    waiting = ReconcileRun.objects.create(registry=made["ready"], trigger=RunTrigger.SWEEP)

    update_plan(plan, {"trivy_enabled": not plan.trivy_enabled}, actor=None, via=Via.SYSTEM)

    assert ReconcileRun.objects.filter(registry=made["ready"], status=RunStatus.QUEUED).get() == waiting
    assert changed_runs() == [made["suspended"].pk]


def test_fields_a_plan_does_not_have_are_refused(fleet):
    plan, _, _ = fleet
    with pytest.raises(ActionRefused, match="cannot be changed: created_at"):
        update_plan(plan, {"created_at": None}, actor=None, via=Via.SYSTEM)


def test_an_operator_may_not_change_a_plan(operator_api, fleet):
    plan, _, _ = fleet
    assert operator_api.patch(f"/api/v1/plans/{plan.pk}/", {"replicas": 2}, format="json").status_code == 403
    assert changed_runs() == []


def test_a_change_from_the_django_admin_requeues_and_is_audited(admin_user, client, fleet):
    plan, made, _ = fleet
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    form = client.get(f"/admin/provisioning/plan/{plan.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update({"trivy_enabled": "on" if not plan.trivy_enabled else "", "ha": "on" if plan.ha else ""})
    data = {name: value for name, value in data.items() if value != ""}

    response = client.post(f"/admin/provisioning/plan/{plan.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert changed_runs() == sorted([made["ready"].pk, made["suspended"].pk])
    event = AuditEvent.objects.get(action="update", target_type="plan", target_id=str(plan.pk))
    assert event.via == Via.UI and event.changes["trivy_enabled"] == [
        plan.trivy_enabled,
        not plan.trivy_enabled,
    ]
