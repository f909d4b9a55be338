"""Roles are visible: a viewer is offered no action, and the server refuses it anyway with the reason."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning.models import AuditEvent, Plan, Registry, Tenant

pytestmark = pytest.mark.django_db

ACTION_LABELS = [b"Reconcile now", b"Suspend", b"Delete", b"Upgrade Harbor", b"Rotate credentials", b">Edit<"]


def test_viewer_sees_no_action_on_a_registry_page(viewer_client, degraded_registry):
    body = viewer_client.get(reverse("provisioning:registry-detail", args=[degraded_registry.pk])).content
    for label in ACTION_LABELS:
        assert label not in body
    assert b"Export YAML" in body  # reading is allowed


def test_operator_is_offered_the_operations_of_its_role_only(operator_client, degraded_registry):
    body = operator_client.get(reverse("provisioning:registry-detail", args=[degraded_registry.pk])).content
    for label in ACTION_LABELS:
        assert label in body
    assert b"Purge data" not in body


@pytest.mark.parametrize(
    ("name", "link"),
    [
        ("tenant-list", b"New tenant"),
        ("registry-list", b"New registry"),
        ("cluster-list", b"New cluster"),
        ("plan-list", b"New plan"),
    ],
)
def test_viewer_is_not_offered_create_buttons(viewer_client, admin_client_, name, link):
    assert link not in viewer_client.get(reverse(f"provisioning:{name}")).content
    assert link in admin_client_.get(reverse(f"provisioning:{name}")).content


def test_viewer_posts_are_refused_with_the_sentence(viewer_client, degraded_registry):
    registry = degraded_registry
    tenant = registry.tenant
    posts = [
        (reverse("provisioning:tenant-create"), {"slug": "nope", "name": "Nope"}),
        (reverse("provisioning:tenant-edit", args=[tenant.pk]), {"name": "Renamed"}),
        (reverse("provisioning:registry-create"), {"name": "x"}),
        (reverse("provisioning:registry-edit", args=[registry.pk]), {"hostname": "other.example.com"}),
        (reverse("provisioning:cluster-create"), {"name": "c"}),
        (reverse("provisioning:plan-edit", args=[registry.plan_id]), {"replicas": 9}),
    ] + [
        (reverse("provisioning:registry-action", args=[registry.pk, op]), {"confirm_name": registry.name})
        for op in ("reconcile", "suspend", "resume", "upgrade", "rotate", "delete", "purge")
    ]
    events = AuditEvent.objects.count()
    for url, data in posts:
        response = viewer_client.post(url, data)
        assert response.status_code == 403, url
        assert b"This needs the" in response.content and b"you have viewer" in response.content, url
    assert AuditEvent.objects.count() == events
    registry.refresh_from_db()
    assert registry.desired_state == "running" and registry.generation == 1
    assert not Tenant.objects.filter(slug="nope").exists()
    assert Plan.objects.get(pk=registry.plan_id).replicas != 9


def test_operator_cannot_purge_or_manage_clusters_and_plans(operator_client, degraded_registry):
    for url in (
        reverse("provisioning:registry-action", args=[degraded_registry.pk, "purge"]),
        reverse("provisioning:cluster-create"),
        reverse("provisioning:cluster-edit", args=[degraded_registry.cluster_id]),
        reverse("provisioning:plan-create"),
        reverse("provisioning:plan-edit", args=[degraded_registry.plan_id]),
    ):
        response = operator_client.get(url)
        assert response.status_code == 403
        assert b"This needs the admin role; you have operator." in response.content


def test_a_user_without_role_sees_nothing(stranger_client, degraded_registry):
    for url in (
        reverse("provisioning:registry-list"),
        reverse("provisioning:registry-detail", args=[degraded_registry.pk]),
        reverse("provisioning:registry-status", args=[degraded_registry.pk]),
        reverse("provisioning:audit"),
        reverse("provisioning:account"),
    ):
        response = stranger_client.get(url)
        assert response.status_code == 403
        assert degraded_registry.hostname.encode() not in response.content


def test_anonymous_users_are_sent_to_log_in(client, degraded_registry):
    response = client.get(reverse("provisioning:registry-detail", args=[degraded_registry.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_htmx_refusal_is_a_fragment(viewer_client, degraded_registry):
    response = viewer_client.post(
        reverse("provisioning:registry-action", args=[degraded_registry.pk, "reconcile"]),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 403
    assert b"<html" not in response.content and b"This needs the operator role" in response.content
    assert Registry.objects.get(pk=degraded_registry.pk).runs.count() == 1  # only the creation's run
