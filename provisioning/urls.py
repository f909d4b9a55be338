"""Web console pages of the provisioning app."""

from django.urls import path

from provisioning.views import (
    account,
    actions,
    audit,
    cache_endpoint,
    clusters,
    plans,
    registries,
    tenants,
    upgrades,
)

app_name = "provisioning"

urlpatterns = [
    path("tenants/", tenants.tenant_list, name="tenant-list"),
    path("tenants/new/", tenants.tenant_create, name="tenant-create"),
    path("tenants/<int:pk>/", tenants.tenant_detail, name="tenant-detail"),
    path("tenants/<int:pk>/edit/", tenants.tenant_edit, name="tenant-edit"),
    path("registries/", registries.registry_list, name="registry-list"),
    path("registries/new/", registries.registry_create, name="registry-create"),
    path("registries/plan-defaults/", registries.plan_defaults, name="plan-defaults"),
    path("registries/<int:pk>/", registries.registry_detail, name="registry-detail"),
    path("registries/<int:pk>/edit/", registries.registry_edit, name="registry-edit"),
    path("registries/<int:pk>/cache/", cache_endpoint.cache_endpoint_edit, name="registry-cache"),
    path("registries/<int:pk>/status/", registries.registry_status, name="registry-status"),
    path("registries/<int:pk>/activity/", registries.registry_activity, name="registry-activity"),
    path("registries/<int:pk>/manifests.yaml", registries.registry_manifests, name="registry-manifests"),
    path("registries/<int:pk>/runs/<int:run_pk>/", registries.run_detail, name="run-detail"),
    path("registries/<int:pk>/runs/<int:run_pk>/status/", registries.run_status, name="run-status"),
    path("registries/<int:pk>/actions/<slug:name>/", actions.registry_action, name="registry-action"),
    path("registries/<int:pk>/upgrade/", upgrades.registry_upgrade, name="registry-upgrade"),
    path("upgrades/<int:pk>/<slug:name>/", upgrades.upgrade_action, name="upgrade-action"),
    path("waves/", upgrades.wave_list, name="wave-list"),
    path("waves/<int:pk>/", upgrades.wave_detail, name="wave-detail"),
    path("waves/<int:pk>/live/", upgrades.wave_live, name="wave-live"),
    path("waves/<int:pk>/<slug:name>/", upgrades.wave_action, name="wave-action"),
    path("clusters/", clusters.cluster_list, name="cluster-list"),
    path("clusters/new/", clusters.cluster_create, name="cluster-create"),
    path("clusters/<int:pk>/", clusters.cluster_detail, name="cluster-detail"),
    path("clusters/<int:pk>/edit/", clusters.cluster_edit, name="cluster-edit"),
    path("plans/", plans.plan_list, name="plan-list"),
    path("plans/new/", plans.plan_create, name="plan-create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan-edit"),
    path("audit/", audit.audit_list, name="audit"),
    path("account/", account.account, name="account"),
    path("account/tokens/", account.token_create, name="token-create"),
    path("account/tokens/<int:pk>/revoke/", account.token_revoke, name="token-revoke"),
]
