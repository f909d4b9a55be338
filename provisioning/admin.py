"""Django admin for every model; encrypted fields are write-only (never rendered back)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from provisioning import models as m
from provisioning.choices import Via
from provisioning.fields import EncryptedTextField
from provisioning.forms import AdminLoginForm
from provisioning.services.plans import EDITABLE_FIELDS as EDITABLE_PLAN_FIELDS
from provisioning.services.plans import update_plan

admin.site.login_form = AdminLoginForm

SECRET_HELP = "Stored encrypted and never shown. Leave empty to keep the current value."


class SecretFieldsForm(forms.ModelForm):
    """Renders encrypted fields as empty password inputs; an empty submission keeps the stored value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_field_names():
            field = self.fields.get(name)
            if field is not None:
                field.widget = forms.PasswordInput(render_value=False)
                field.required = False
                field.help_text = SECRET_HELP
                self.initial[name] = ""

    @classmethod
    def secret_field_names(cls) -> list[str]:
        return [f.name for f in cls._meta.model._meta.get_fields() if isinstance(f, EncryptedTextField)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.secret_field_names():
            if name in data and not data[name] and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


class SecretAwareAdmin(admin.ModelAdmin):
    form = SecretFieldsForm


@admin.register(m.Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "display_name",
        "storage_quota_gib",
        "max_storage_quota_gib",
        "replicas",
        "trivy_enabled",
    )

    def save_model(self, request: HttpRequest, obj: m.Plan, form: Any, change: bool) -> None:
        """A change requeues the plan's registries and is audited, as from the console and the API."""
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {
            name: form.cleaned_data[name] for name in form.changed_data if name in EDITABLE_PLAN_FIELDS
        }
        update_plan(m.Plan.objects.get(pk=obj.pk), changes, actor=request.user, via=Via.UI)
        obj.refresh_from_db()


@admin.register(m.Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "contact_email", "created_at")
    search_fields = ("slug", "name", "contact_email")


@admin.register(m.Cluster)
class ClusterAdmin(SecretAwareAdmin):
    list_display = ("name", "region", "api_url", "in_cluster", "simulated", "capacity")


class ComponentInline(admin.TabularInline):
    model = m.Component
    extra = 0
    readonly_fields = ("ready_replicas", "available", "message", "observed_at")


@admin.register(m.Registry)
class RegistryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "hostname", "harbor_version", "plan", "cluster", "desired_state", "phase")
    list_filter = ("phase", "desired_state", "plan", "cluster")
    search_fields = ("name", "hostname", "tenant__slug", "namespace")
    list_select_related = ("tenant", "plan", "cluster")
    readonly_fields = ("namespace", "phase", "phase_since", "conditions", "generation", "observed_generation")
    inlines = [ComponentInline]


@admin.register(m.RegistrySecret)
class RegistrySecretAdmin(admin.ModelAdmin):
    list_display = ("registry", "name", "created_at", "rotated_at")
    fields = ("registry", "name", "created_at", "rotated_at")
    readonly_fields = fields

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


for binding in m.BINDING_MODELS:
    admin.site.register(
        binding,
        type(
            f"{binding.__name__}Admin",
            (SecretAwareAdmin,),
            {
                "list_display": ("registry", "status", "whose_move", "last_checked_at"),
                "list_filter": ("status",),
            },
        ),
    )


@admin.register(m.ManagedResource)
class ManagedResourceAdmin(admin.ModelAdmin):
    list_display = ("registry", "kind", "namespace", "name", "state", "last_seen_at")
    list_filter = ("kind", "state")


@admin.register(m.ReconcileRun)
class ReconcileRunAdmin(admin.ModelAdmin):
    list_display = ("id", "registry", "trigger", "status", "error_class", "requested_at", "duration_ms")
    list_filter = ("status", "trigger", "error_class")


@admin.register(m.AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "via", "action", "target_type", "target_repr")
    list_filter = ("via", "action", "target_type")

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(m.ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "key_digest", "created_at", "last_used_at")


@admin.register(m.IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "method", "path", "status_code", "created_at")
