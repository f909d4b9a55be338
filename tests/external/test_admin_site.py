"""Django admin is a read-only window on every model holding tenant data or credentials (issue #11, point 3).

Changes go through the console's forms and the API, which validate, audit and reconcile; the admin shows, never
adds, changes or deletes those models, and never shows an encrypted field. Plans stay editable there, audited.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db.models import Model

from provisioning import models as m
from provisioning.choices import CacheMode
from provisioning.fields import EncryptedTextField
from tests import factories

pytestmark = pytest.mark.django_db

TENANT_DATA: tuple[type[Model], ...] = (
    m.Tenant,
    m.Cluster,
    m.Registry,
    m.Component,
    m.RegistrySecret,
    *m.BINDING_MODELS,
    m.ManagedResource,
    m.ReconcileRun,
    m.AuditEvent,
    m.ApiToken,
    m.IdempotencyKey,
)


@pytest.fixture
def staff(client, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_every_model_holding_tenant_data_is_read_only_in_the_admin(rf, admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    request = rf.get("/admin/")
    request.user = admin_user
    registered = admin.site._registry
    for model in TENANT_DATA:
        if model is m.Component:
            continue  # shown inline on its registry only
        model_admin = registered[model]
        assert not model_admin.has_add_permission(request), model
        assert not model_admin.has_change_permission(request), model
        assert not model_admin.has_delete_permission(request), model
        secret = {f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)}
        assert secret <= set(model_admin.get_exclude(request) or ()), model
    for inline in registered[m.Registry].inlines:
        assert not inline(m.Registry, admin.site).has_change_permission(request)


def test_a_post_to_a_bindings_change_page_changes_nothing(staff):
    registry = factories.registry(cache_mode=CacheMode.PROVIDER)
    cache = registry.cache
    page = f"/admin/provisioning/cachebinding/{cache.pk}/change/"

    shown = staff.get(page)
    response = staff.post(page, {"host": "someone-elses-redis.example.net", "port": 6379, "mode": "provider"})

    assert shown.status_code == 200
    assert response.status_code == 403
    assert m.CacheBinding.objects.get(pk=cache.pk).host == ""


def test_a_clusters_page_never_shows_its_credentials(staff):
    cluster = factories.cluster(
        database_admin_url="postgres://admin:Qx7Zk9secret@db.example.com/postgres", token="tok-Vw3Jm5"
    )

    page = staff.get(f"/admin/provisioning/cluster/{cluster.pk}/change/").content.decode()

    assert "Qx7Zk9secret" not in page and "tok-Vw3Jm5" not in page


def test_a_plan_created_in_the_admin_is_audited(staff):
    response = staff.post(
        "/admin/provisioning/plan/add/",
        {
            "name": "xl",
            "display_name": "Extra large",
            "storage_quota_gib": 100,
            "max_storage_quota_gib": 200,
            "replicas": 1,
            "max_replicas": 3,
            "parallel_request_limit": 100,
            "cpu_request": "100m",
            "cpu_limit": "1",
            "memory_request": "256Mi",
            "memory_limit": "1Gi",
            "namespace_cpu_limit": "20",
            "namespace_memory_limit": "20Gi",
            "redis_memory_mib": 256,
            "redis_persistence_gib": 1,
            "database_connection_limit": 40,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    event = m.AuditEvent.objects.get(action="create", target_type="plan")
    assert event.via == "ui" and event.changes["name"] == "xl"
