"""Django admin: a read-only window on every model that holds tenant data or credentials; plans stay editable.

Tenants, registries, their bindings and secrets, clusters, resources, runs, audit events and tokens change only
through the console's forms and the API, whose service functions validate, audit and reconcile. Here they can be
looked at, never added, changed or deleted, and encrypted fields are never shown. Plans may be edited here: a change
goes through ``update_plan`` (audited, registries requeued) and a new plan is audited too.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from provisioning import audit
from provisioning import models as m
from provisioning.choices import Via
from provisioning.fields import EncryptedTextField
from provisioning.forms import AdminLoginForm
from provisioning.services.plans import EDITABLE_FIELDS as EDITABLE_PLAN_FIELDS
from provisioning.services.plans import snapshot, update_plan

admin.site.login_form = AdminLoginForm


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows a model without its encrypted fields (nor ``hidden_fields``) and refuses every add, change and
    delete."""

    hidden_fields: tuple[str, ...] = ()

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> list[str]:
        encrypted = [f.name for f in self.model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        return [*encrypted, *self.hidden_fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(m.Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "display_name",
        "storage_quota_gib",
        "max_storage_quota_gib",
        "replicas",
        "trivy_enabled",
        "database_connection_limit",
    )

    def save_model(self, request: HttpRequest, obj: m.Plan, form: Any, change: bool) -> None:
        """A change requeues the plan's registries and is audited, as from the console and the API."""
        if not change:
            super().save_model(request, obj, form, change)
            audit.record(request.user, Via.UI, "create", obj, changes=snapshot(obj))
            return
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_PLAN_FIELDS
        }
        update_plan(m.Plan.objects.get(pk=obj.pk), changes, actor=request.user, via=Via.UI)
        obj.refresh_from_db()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the console and the API refuse to delete a plan in use, and audit it


@admin.register(m.Tenant)
class TenantAdmin(ReadOnlyAdmin):
    list_display = ("slug", "name", "contact_email", "created_at")
    search_fields = ("slug", "name", "contact_email")


@admin.register(m.Cluster)
class ClusterAdmin(ReadOnlyAdmin):
    list_display = ("name", "region", "api_url", "in_cluster", "simulated", "capacity")


class ComponentInline(ReadOnlyInline):
    model = m.Component


@admin.register(m.Registry)
class RegistryAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "hostname", "harbor_version", "plan", "cluster", "desired_state", "phase")
    list_filter = ("phase", "desired_state", "plan", "cluster")
    search_fields = ("name", "hostname", "tenant__slug", "namespace")
    list_select_related = ("tenant", "plan", "cluster")
    inlines = [ComponentInline]


@admin.register(m.RegistrySecret)
class RegistrySecretAdmin(ReadOnlyAdmin):
    list_display = ("registry", "name", "created_at", "rotated_at")


for binding in m.BINDING_MODELS:
    admin.site.register(
        binding,
        type(
            f"{binding.__name__}Admin",
            (ReadOnlyAdmin,),
            {
                "list_display": ("registry", "status", "whose_move", "last_checked_at"),
                "list_filter": ("status",),
            },
        ),
    )


@admin.register(m.ManagedResource)
class ManagedResourceAdmin(ReadOnlyAdmin):
    list_display = ("registry", "kind", "namespace", "name", "state", "last_seen_at")
    list_filter = ("kind", "state")


@admin.register(m.ReconcileRun)
class ReconcileRunAdmin(ReadOnlyAdmin):
    list_display = ("id", "registry", "trigger", "status", "error_class", "requested_at", "duration_ms")
    list_filter = ("status", "trigger", "error_class")


@admin.register(m.AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor_name", "via", "action", "target_type", "target_repr")
    list_filter = ("via", "action", "target_type")


@admin.register(m.ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    hidden_fields = ("key_digest",)


@admin.register(m.IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "method", "path", "status_code", "created_at")
    hidden_fields = ("response_body",)  # the first answer may hold a key shown once
