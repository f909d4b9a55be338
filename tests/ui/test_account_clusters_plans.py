"""The account page's API tokens, cluster pages with write-only secrets, plan pages, and the audit log filters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from provisioning import audit
from provisioning.choices import Via
from provisioning.models import ApiToken, AuditEvent, Cluster, Plan
from provisioning.models.tokens import digest
from tests import factories
from tests.factories import cluster_form
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def test_token_key_is_shown_once_stored_as_digest_and_audited(viewer_client, viewer):
    response = viewer_client.post(reverse("provisioning:token-create"), {"name": "order pipeline"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(user=viewer, name="order pipeline")
    body = response.content.decode()
    raw = body.split('id="new-key" class="key" type="text" readonly value="')[1].split('"')[0]
    assert raw.startswith("hc_") and digest(raw) == token.key_digest
    assert raw not in viewer_client.get(reverse("provisioning:account")).content.decode()
    event = AuditEvent.objects.get(target_type="apitoken", action="create")
    assert raw not in str(event.changes) and event.actor == viewer
    api = viewer_client.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200


def test_revoke_own_token_only(viewer_client, viewer, operator):
    mine, _ = ApiToken.issue(viewer, "mine")
    theirs, _ = ApiToken.issue(operator, "theirs")
    assert viewer_client.post(reverse("provisioning:token-revoke", args=[theirs.pk])).status_code == 404
    response = viewer_client.post(reverse("provisioning:token-revoke", args=[mine.pk]))
    assert response.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None and theirs.revoked_at is None
    assert AuditEvent.objects.filter(action="revoke", target_id=str(mine.pk)).count() == 1
    body = viewer_client.get(reverse("provisioning:account")).content.decode()
    assert "revoked" in body and "theirs" not in body


def test_token_needs_a_name(viewer_client):
    response = viewer_client.post(reverse("provisioning:token-create"), {"name": ""})
    assert response.status_code == 400
    assert b'id="id_name_error"' in response.content and not ApiToken.objects.exists()


def test_cluster_pages_never_render_secrets(admin_client_):
    cluster = factories.cluster(
        token="kube-token-never-shown",
        database_admin_url="postgres://admin:pg-admin-never-shown@127.0.0.1:5432/postgres",
        s3_secret_key="s3-admin-never-shown",
        simulated=True,
    )
    for url in (
        reverse("provisioning:cluster-list"),
        reverse("provisioning:cluster-detail", args=[cluster.pk]),
        reverse("provisioning:cluster-edit", args=[cluster.pk]),
    ):
        body = admin_client_.get(url).content.decode()
        for secret in ("kube-token-never-shown", "pg-admin-never-shown", "s3-admin-never-shown"):
            assert secret not in body, url
    detail = admin_client_.get(reverse("provisioning:cluster-detail", args=[cluster.pk])).content.decode()
    assert 'token: <span class="ok">stored</span>' in detail
    assert "Simulated cluster (Kubernetes API emulator)." in detail


def test_cluster_saved_through_the_service_and_secrets_kept_when_left_empty(admin_client_, kube_emulator):
    response = admin_client_.post(
        reverse("provisioning:cluster-create"), cluster_form(token="first-token", api_url=kube_emulator.url)
    )
    cluster = Cluster.objects.get(name="edge-1")
    assert response.status_code == 302
    assert cluster.token == "first-token"
    event = AuditEvent.objects.get(target_type="cluster", action="create")
    assert "first-token" not in str(event.changes)
    response = admin_client_.post(
        reverse("provisioning:cluster-edit", args=[cluster.pk]),
        cluster_form(region="us", capacity=200, api_url=kube_emulator.url),
    )
    assert response.status_code == 302
    cluster.refresh_from_db()
    assert cluster.token == "first-token" and cluster.region == "us" and cluster.capacity == 200
    response = admin_client_.post(
        reverse("provisioning:cluster-edit", args=[cluster.pk]),
        cluster_form(clear_secrets=["token"], api_url=kube_emulator.url),
    )
    cluster.refresh_from_db()
    assert cluster.token == ""


def test_wrong_admin_connection_string_is_refused_on_its_field(admin_client_):
    data = cluster_form(database_admin_url="postgres://admin:wrong-password-xyz@127.0.0.1:1/postgres")
    response = admin_client_.post(reverse("provisioning:cluster-create"), data)
    assert response.status_code == 400
    body = response.content.decode()
    assert 'id="id_database_admin_url_error"' in body, response.context["form"].errors
    assert "wrong-password-xyz" not in body
    assert not Cluster.objects.filter(name="edge-1").exists()


def test_plan_edit_by_admin_is_audited_and_checked(admin_client_):
    plan = Plan.objects.get(name="s")
    on_plan = factories.registry(plan=plan)
    url = reverse("provisioning:plan-edit", args=[plan.pk])
    form = admin_client_.get(url).context["form"]
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items()}
    response = admin_client_.post(url, {**data, "storage_quota_gib": 900, "max_storage_quota_gib": 500})
    assert response.status_code == 400
    assert b"cannot be above the plan&#x27;s maximum quota" in response.content
    response = admin_client_.post(url, {**data, "parallel_request_limit": 20})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.parallel_request_limit == 20
    event = AuditEvent.objects.get(target_type="plan", action="update")
    assert event.changes == {"parallel_request_limit": [15, 20], "registries_requeued": 1}
    generation = on_plan.generation
    on_plan.refresh_from_db()
    assert on_plan.generation == generation + 1, "the plan's registries are reconciled with the new limit"


def test_audit_log_filters_like_the_api(admin_user):
    client = logged_in(admin_user)
    registry = factories.registry()
    audit.record(admin_user, Via.API, "suspend", registry)
    audit.record(admin_user, Via.UI, "resume", registry, changes={"password": "hunter2"})
    body = client.get(reverse("provisioning:audit"), {"via": "api"}).content.decode()
    assert "<code>suspend</code>" in body and "<code>resume</code>" not in body
    body = client.get(reverse("provisioning:audit"), {"action": "resume"}).content.decode()
    assert "<code>resume</code>" in body and "hunter2" not in body and "••••••" in body
    body = client.get(reverse("provisioning:audit"), {"after": "not-a-date"}).content.decode()
    assert 'id="id_after_error"' in body
