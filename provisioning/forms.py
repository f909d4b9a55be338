"""Forms of the web console. They collect and check input; saving goes through the service functions."""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.urls import reverse

from provisioning import catalogue
from provisioning.choices import CacheMode, Via
from provisioning.models import Cluster, Plan, Registry, Tenant
from provisioning.models.tokens import TokenScope
from provisioning.permissions import held_role, scopes_within
from provisioning.services import logins
from provisioning.services.errors import ActionRefused
from provisioning.services.placement import move_refusal
from provisioning.services.registries import EDITABLE_FIELDS, validation_messages
from provisioning.services.rotation import ROTATABLE_KINDS, not_rotatable_reason
from provisioning.validators import validate_hostname

OVERRIDE_FIELDS = ("storage_quota_gib", "replicas", "trivy_enabled", "parallel_request_limit")
TRIVY_CHOICES = [("", "Plan default"), ("true", "On"), ("false", "Off")]


def _tristate(value: str) -> bool | None:
    return {"true": True, "false": False}.get(value)


def plan_default_hints(plan: Plan | None) -> dict[str, str]:
    """The sentence under each override field: what leaving it empty gives, and the plan's limit."""
    if plan is None:
        return dict.fromkeys(OVERRIDE_FIELDS, "Empty = the plan's default. Choose a plan to see it.")
    return {
        "storage_quota_gib": (
            f"Empty = plan default: {plan.storage_quota_gib} GiB. "
            f"The {plan} plan allows at most {plan.max_storage_quota_gib} GiB."
        ),
        "replicas": (
            f"Empty = plan default: {plan.replicas} per component. The {plan} plan allows at most "
            f"{plan.max_replicas}."
        ),
        "trivy_enabled": f"Plan default: scanning {'on' if plan.trivy_enabled else 'off'}.",
        "parallel_request_limit": f"Empty = plan default: {plan.parallel_request_limit} concurrent requests.",
    }


class ServiceErrorsMixin:
    """Turns a service's ValidationError or ActionRefused into errors shown next to the fields they concern."""

    def add_service_error(self, exc: ValidationError | ActionRefused) -> None:
        form: Any = self
        if isinstance(exc, ActionRefused):
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return
        for field, messages in validation_messages(exc).items():
            target = field if field in form.fields else None
            for message in messages:
                form.add_error(target, message if target or field == "__all__" else f"{field}: {message}")


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = ["slug", "name", "contact_email", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["slug"].disabled = True
            self.fields["slug"].help_text = "Used in namespace names: it cannot change."


class RegistrySettingsForm(ServiceErrorsMixin, forms.Form):
    """The settings a registry's owner may choose and later change: plan, host name and overrides."""

    plan = forms.ModelChoiceField(queryset=Plan.objects.all(), empty_label="Choose a plan")
    hostname = forms.CharField(max_length=253, help_text="Fully qualified, e.g. registry.customer.example.")
    storage_quota_gib = forms.IntegerField(required=False, min_value=1, label="Storage quota (GiB)")
    replicas = forms.IntegerField(required=False, min_value=1, label="Replicas per component")
    trivy_enabled = forms.TypedChoiceField(
        choices=TRIVY_CHOICES,
        coerce=_tristate,
        empty_value=None,
        required=False,
        label="Vulnerability scanning",
    )
    parallel_request_limit = forms.IntegerField(required=False, min_value=1, label="Parallel request limit")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan"].widget.attrs.update(
            {"hx-get": reverse("provisioning:plan-defaults"), "hx-trigger": "change", "hx-swap": "none"}
        )
        for name, hint in plan_default_hints(self.chosen_plan()).items():
            self.fields[name].help_text = hint

    def chosen_plan(self) -> Plan | None:
        value = self.data.get(self.add_prefix("plan")) if self.is_bound else self.initial.get("plan")
        if isinstance(value, Plan):
            return value
        try:
            return Plan.objects.filter(pk=int(value)).first() if value else None
        except (TypeError, ValueError):
            return None

    def clean_hostname(self) -> str:
        hostname = str(self.cleaned_data["hostname"]).strip().lower().rstrip(".")
        validate_hostname(hostname)
        return hostname

    def candidate(self, data: dict[str, Any]) -> Registry:
        """The registry as it would be saved, unsaved: the model's own rules then check it."""
        raise NotImplementedError

    def clean(self) -> dict[str, Any]:
        """Check the model's rules (plan limits, uniqueness) too, so every error shows on the first submit."""
        data = super().clean() or {}
        try:
            self.candidate(data).full_clean(exclude=list(self.errors))
        except (ValidationError, ActionRefused) as exc:
            self.add_service_error(exc)
        return data


class RegistryCreateForm(RegistrySettingsForm):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.all(), empty_label="Choose a tenant")
    name = forms.CharField(
        max_length=30, help_text="DNS-safe, unique within the tenant; it cannot change later."
    )
    region = forms.ChoiceField(
        required=False,
        help_text="Placed on the freest cluster of the region with room for the plan, unless a cluster is named.",
    )
    cluster = forms.ModelChoiceField(
        queryset=Cluster.objects.all(),
        required=False,
        empty_label="Place it automatically in the region",
        help_text="Name a cluster only to override placement.",
    )
    cluster_labels = forms.CharField(
        required=False,
        max_length=500,
        label="Cluster labels",
        help_text="Only clusters carrying all of these, e.g. tier=gold, zone=a. Empty: any cluster of the region.",
    )
    harbor_version = forms.ChoiceField(
        choices=[(v, f"Harbor {v}") for v in reversed(catalogue.SUPPORTED_VERSIONS)],
        initial=catalogue.DEFAULT_VERSION,
        help_text="Later changes go through the upgrade action.",
    )
    cache_mode = forms.ChoiceField(
        choices=CacheMode.choices,
        initial=CacheMode.MANAGED,
        label="Where its Redis runs",
        widget=forms.RadioSelect,
    )

    field_order = [
        "tenant",
        "name",
        "plan",
        "region",
        "cluster",
        "cluster_labels",
        "harbor_version",
        "hostname",
        "cache_mode",
        *OVERRIDE_FIELDS,
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        regions = sorted({r for r in Cluster.objects.values_list("region", flat=True) if r})
        region.choices = [("", "Choose a region" if regions else "No cluster has a region")] + [
            (r, r) for r in regions
        ]

    def clean_cluster_labels(self) -> dict[str, str]:
        """``key=value, key=value`` as a dict; a part without ``=`` is refused."""
        labels: dict[str, str] = {}
        for part in str(self.cleaned_data.get("cluster_labels") or "").split(","):
            if not part.strip():
                continue
            key, equals, value = part.partition("=")
            if not equals or not key.strip():
                raise ValidationError(
                    f"{part.strip()!r} is not key=value: write labels as tier=gold, zone=a."
                )
            labels[key.strip()] = value.strip()
        return labels

    def service_fields(self) -> dict[str, Any]:
        """Keyword arguments of ``create_registry``."""
        return dict(self.cleaned_data)

    def candidate(self, data: dict[str, Any]) -> Registry:
        registry = Registry(
            **{
                name: value
                for name, value in data.items()
                if name not in ("cache_mode", "region", "cluster_labels")
            }
        )
        if registry.tenant_id and registry.name:
            registry.namespace = registry.default_namespace()
        return registry

    def clean(self) -> dict[str, Any]:
        data = forms.Form.clean(self) or {}
        if not data.get("cluster") and not data.get("region") and "region" not in self.errors:
            self.add_error("region", "Choose a region to place the registry in, or name a cluster.")
        exclude = [*self.errors, *(() if data.get("cluster") else ("cluster",))]
        try:
            self.candidate(data).full_clean(exclude=exclude)
        except (ValidationError, ActionRefused) as exc:
            self.add_service_error(exc)
        return data


class RegistryEditForm(RegistrySettingsForm):
    cluster = forms.ModelChoiceField(
        queryset=Cluster.objects.all(),
        required=False,
        empty_label="Keep its cluster",
        help_text="Moving to another cluster is refused once the registry holds data (database, objects, Redis).",
    )

    def __init__(self, *args: Any, registry: Registry, **kwargs: Any) -> None:
        self.registry = registry
        kwargs.setdefault("initial", {name: getattr(registry, name) for name in EDITABLE_FIELDS})
        kwargs["initial"]["trivy_enabled"] = {True: "true", False: "false", None: ""}[registry.trivy_enabled]
        super().__init__(*args, **kwargs)

    def changes(self, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Only the fields whose value differs from the registry's: what ``update_registry`` should apply."""
        data = self.cleaned_data if data is None else data
        return {
            name: value
            for name, value in data.items()
            if name in EDITABLE_FIELDS
            and value != getattr(self.registry, name)
            and not (name == "cluster" and value is None)
        }

    def candidate(self, data: dict[str, Any]) -> Registry:
        candidate = copy.copy(self.registry)
        for name, value in self.changes(data).items():
            setattr(candidate, name, value)
        return candidate

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        target = data.get("cluster")
        if target is not None and target.pk != self.registry.cluster_id:
            refusal = move_refusal(self.registry, target)
            if refusal:
                self.add_error("cluster", refusal)
        return data


class UpgradeForm(forms.Form):
    target_version = forms.ChoiceField(label="Upgrade to")

    def __init__(self, *args: Any, registry: Registry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        targets = catalogue.upgrade_targets(registry.harbor_version)
        field = self.fields["target_version"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(v, f"Harbor {v}") for v in targets]
        self.fields["target_version"].help_text = (
            f"Runs Harbor {registry.harbor_version}. Offered: newer patches any time, newer minors only from "
            "the two previous ones; never down."
        )


ROTATION_LABELS = {
    "database": "PostgreSQL password",
    "cache": "Redis password",
    "storage": "Object storage keys",
}


class RotateForm(forms.Form):
    """Which credentials to rotate; those the console cannot rotate itself are shown with the reason, disabled."""

    kinds = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Credentials to rotate",
        help_text="Each gets a new value; the old one keeps working until the pods run with the new one.",
    )

    def __init__(self, *args: Any, registry: Registry, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        self.blocked: dict[str, str] = {}
        for kind in ROTATABLE_KINDS:
            binding = getattr(registry, kind, None)
            reason = "it has no binding" if binding is None else not_rotatable_reason(binding)
            label = ROTATION_LABELS.get(kind, kind)
            if reason:
                self.blocked[kind] = reason
                label = f"{label} — not possible: {reason}"
            choices.append((kind, label))
        field = self.fields["kinds"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
        self.initial.setdefault("kinds", [k for k in ROTATABLE_KINDS if k not in self.blocked])


class ConfirmNameForm(forms.Form):
    """Typing the registry's name guards the destructive actions: its name, or tenant/name as the page titles it."""

    confirm_name = forms.CharField(label="Type the registry's name to confirm", max_length=100)

    def __init__(self, *args: Any, registry: Registry, **kwargs: Any) -> None:
        self.registry = registry
        super().__init__(*args, **kwargs)
        self.fields["confirm_name"].help_text = f"Type {registry.name} (or {registry}) exactly."
        self.fields["confirm_name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_confirm_name(self) -> str:
        value = str(self.cleaned_data["confirm_name"]).strip()
        if value not in (self.registry.name, str(self.registry)):
            raise ValidationError(f"That is not the registry's name: type {self.registry.name} to confirm.")
        return value


class PurgeForm(ConfirmNameForm):
    """Purge asks for the name, and whether a bucket still holding images may be removed too."""

    force = forms.BooleanField(
        label="Also remove the bucket if it still holds images",
        required=False,
        help_text="Without this, a bucket that is not empty is kept and the purge says so.",
    )


class PlanForm(forms.ModelForm):
    class Meta:
        model = Plan
        fields = list(Plan.EDITABLE_FIELDS)
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "storage_quota_gib": "Storage quota (GiB)",
            "max_storage_quota_gib": "Largest storage quota (GiB)",
            "max_replicas": "Most replicas",
            "trivy_enabled": "Vulnerability scanning (Trivy)",
            "cpu_request": "CPU request per pod",
            "cpu_limit": "CPU limit per pod",
            "memory_request": "Memory request per pod",
            "memory_limit": "Memory limit per pod",
            "namespace_cpu_limit": "CPU limit of the namespace",
            "namespace_memory_limit": "Memory limit of the namespace",
            "redis_memory_mib": "Managed Redis memory (MiB)",
            "redis_persistence_gib": "Managed Redis disk (GiB)",
            "database_connection_limit": "Database connections per login role",
            "ha": "High availability",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "The plan's identifier: it cannot change."


class TokenForm(ServiceErrorsMixin, forms.Form):
    """A new API token: its name, a scope within the user's role, and a lifetime within API_TOKEN_MAX_DAYS."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. “order pipeline”.")
    scope = forms.ChoiceField(required=False, help_text="What the token may do; never more than your role.")
    expires_in_days = forms.IntegerField(required=False, min_value=1, label="Expires in (days)")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = scopes_within(held_role(user))
        scope = self.fields["scope"]
        assert isinstance(scope, forms.ChoiceField)
        scope.choices = [(value, label) for value, label in TokenScope.choices if value in allowed]
        self.initial.setdefault("scope", allowed[-1] if allowed else "")
        lifetime = self.fields["expires_in_days"]
        assert isinstance(lifetime, forms.IntegerField)
        lifetime.max_value = settings.API_TOKEN_MAX_DAYS
        lifetime.validators.append(MaxValueValidator(settings.API_TOKEN_MAX_DAYS))
        lifetime.widget.attrs["max"] = settings.API_TOKEN_MAX_DAYS
        lifetime.help_text = f"At most {settings.API_TOKEN_MAX_DAYS} days."
        self.initial.setdefault("expires_in_days", settings.API_TOKEN_DEFAULT_DAYS)


CLUSTER_SECRET_FIELDS = ("token", "kubeconfig", "database_admin_url", "s3_access_key", "s3_secret_key")


class WriteOnlyTextarea(forms.Textarea):
    """A textarea that never renders a value back, not even the one just submitted."""

    def format_value(self, value: Any) -> None:
        return None


class ClusterForm(ServiceErrorsMixin, forms.ModelForm):
    """A cluster's settings. Secrets are write-only: the inputs start empty, and empty keeps the stored value."""

    class Meta:
        model = Cluster
        fields = [
            "name",
            "display_name",
            "region",
            "simulated",
            "in_cluster",
            "api_url",
            "token",
            "ca_certificate",
            "kubeconfig",
            "capacity",
            "allocatable_cpu",
            "allocatable_memory",
            "labels",
            "queue",
            "ingress_class",
            "ingress_namespace",
            "monitoring_namespace",
            "storage_class",
            "cert_issuer",
            "node_selector",
            "tolerations",
            "egress_cidrs",
            "dns_namespace",
            "dns_pod_labels",
            "upstream_egress_cidrs",
            "upstream_egress_ports",
            "acme_http01",
            "database_admin_url",
            "s3_endpoint",
            "s3_region",
            "s3_access_key",
            "s3_secret_key",
            "s3_iam",
            "backup_marker",
        ]
        widgets = {
            "ca_certificate": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
            "kubeconfig": WriteOnlyTextarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
            "node_selector": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "tolerations": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "egress_cidrs": forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
            "dns_pod_labels": forms.Textarea(attrs={"rows": 1, "spellcheck": "false"}),
            "labels": forms.Textarea(attrs={"rows": 1, "spellcheck": "false"}),
            "upstream_egress_cidrs": forms.Textarea(attrs={"rows": 1, "spellcheck": "false"}),
            "upstream_egress_ports": forms.Textarea(attrs={"rows": 1, "spellcheck": "false"}),
        }
        labels = {
            "simulated": "Simulated (Kubernetes API emulator)",
            "in_cluster": "In-cluster access",
            "token": "Service account token",
            "ca_certificate": "CA certificate (PEM)",
            "queue": "Reconcile queue",
            "capacity": "Capacity (registries)",
            "allocatable_cpu": "Allocatable CPU",
            "allocatable_memory": "Allocatable memory",
            "cert_issuer": "cert-manager ClusterIssuer",
            "egress_cidrs": "Egress CIDRs",
            "dns_namespace": "Cluster DNS namespace",
            "dns_pod_labels": "Cluster DNS pod labels",
            "upstream_egress_cidrs": "Upstream HTTPS CIDRs",
            "upstream_egress_ports": "Upstream ports",
            "database_admin_url": "PostgreSQL admin URL",
            "s3_access_key": "S3 admin access key",
            "s3_secret_key": "S3 admin secret key",
            "s3_iam": "S3 has IAM (a user per tenant)",
        }

    api_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="API URL",
        help_text=Cluster._meta.get_field("api_url").help_text,
    )
    s3_endpoint = forms.URLField(required=False, assume_scheme="https", label="S3 endpoint")
    clear_secrets = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Remove stored secrets",
        help_text="E.g. remove the kubeconfig to use the API URL and token instead.",
    )

    fieldsets = (
        ("The cluster", ("name", "display_name", "region", "simulated", "labels", "queue")),
        ("Capacity", ("capacity", "allocatable_cpu", "allocatable_memory")),
        ("Kubernetes access", ("in_cluster", "api_url", "token", "ca_certificate", "kubeconfig")),
        (
            "Placement and ingress",
            (
                "ingress_class",
                "ingress_namespace",
                "monitoring_namespace",
                "storage_class",
                "cert_issuer",
                "node_selector",
                "tolerations",
            ),
        ),
        (
            "Network",
            (
                "egress_cidrs",
                "dns_namespace",
                "dns_pod_labels",
                "upstream_egress_cidrs",
                "upstream_egress_ports",
                "acme_http01",
            ),
        ),
        (
            "Shared services of the region",
            (
                "database_admin_url",
                "s3_endpoint",
                "s3_region",
                "s3_access_key",
                "s3_secret_key",
                "s3_iam",
                "backup_marker",
            ),
        ),
        ("Stored secrets", ("clear_secrets",)),
    )

    def grouped_fields(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in self.fieldsets
            if any(name in self.fields for name in names)
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        stored_secrets = []
        for name in CLUSTER_SECRET_FIELDS:
            field = self.fields[name]
            stored = bool(self.instance.pk and getattr(self.instance, name))
            if stored:
                stored_secrets.append((name, field.label))
            if name != "kubeconfig":
                field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.required = False
            self.initial[name] = ""
            state = "A value is stored (never shown); leave empty to keep it." if stored else "Not set."
            field.help_text = f"{field.help_text} {state}".strip()
        clear = self.fields["clear_secrets"]
        assert isinstance(clear, forms.ChoiceField)
        clear.choices = stored_secrets
        if not stored_secrets:
            del self.fields["clear_secrets"]
        if self.instance.pk:
            self.fields["name"].disabled = True

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cleared = set(data.get("clear_secrets") or ())
        for name in CLUSTER_SECRET_FIELDS:
            if name in cleared:
                data[name] = ""
            elif not data.get(name) and self.instance.pk:
                data[name] = getattr(self.instance, name)
        return data


class ThrottledLoginMixin:
    """Log in through :mod:`provisioning.services.logins`: refused while the account name or the client address is
    locked out (the password is then not even checked), every failure counted and audited. The refusal reads the
    same whether or not the account exists."""

    request: Any
    cleaned_data: dict[str, Any]
    user_cache: Any

    def clean(self) -> dict[str, Any]:
        form: Any = self
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        address = logins.client_address(self.request)
        lock = logins.lockout(username, address)
        if lock is not None:
            logins.record_refusal(username, address, lock, via=Via.UI)
            raise ValidationError(lock.message(), code="locked")
        self.user_cache = authenticate(self.request, username=username, password=password)
        if self.user_cache is None:
            lock = logins.record_failure(username, address, via=Via.UI)
            if lock is not None:
                raise ValidationError(lock.message(), code="locked")
            raise form.get_invalid_login_error()
        form.confirm_login_allowed(self.user_cache)
        logins.record_success(username)
        return self.cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your user name and password did not match. Try again.",
    }


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The Django admin's login, throttled the same way as the console's."""


class CacheEndpointForm(ServiceErrorsMixin, forms.Form):
    """The Redis the provider's Redis service handed out for a registry; the password is write-only."""

    host = forms.CharField(
        max_length=253, help_text="Host name or address; several, comma-separated, for Sentinel."
    )
    port = forms.IntegerField(min_value=1, max_value=65535, initial=6379)
    username = forms.CharField(
        max_length=63, required=False, help_text="The Redis ACL user, if the provider gave one."
    )
    password = forms.CharField(
        max_length=512,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    tls = forms.BooleanField(required=False, label="TLS (rediss://)")
    sentinel_master = forms.CharField(
        max_length=63, required=False, label="Sentinel master", help_text="Only for a Sentinel endpoint."
    )

    def __init__(self, *args: Any, binding: Any, **kwargs: Any) -> None:
        fields = ("host", "port", "username", "tls", "sentinel_master")
        kwargs.setdefault(
            "initial", {name: getattr(binding, name) for name in fields if getattr(binding, name)}
        )
        super().__init__(*args, **kwargs)
        self.fields["password"].help_text = (
            "A password is stored (never shown); leave empty to keep it."
            if binding.password
            else "The password the provider's Redis service handed out."
        )
