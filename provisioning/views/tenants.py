"""Tenant pages: the searchable list, a tenant's page, and the create and edit forms."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from provisioning import audit
from provisioning.choices import Phase, Via
from provisioning.filtersets import TenantFilterSet
from provisioning.forms import TenantForm
from provisioning.models import AuditEvent, Registry, Tenant
from provisioning.tables import RegistryTable, TenantTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list

SETTLED_WELL = [Phase.READY, Phase.SUSPENDED, Phase.DELETED, Phase.PURGED]


def tenants_with_counts() -> QuerySet[Tenant]:
    return Tenant.objects.annotate(
        registry_count=Count("registries", filter=~Q(registries__phase=Phase.PURGED), distinct=True),
        unwell_count=Count("registries", filter=~Q(registries__phase__in=SETTLED_WELL), distinct=True),
    )


@requires("view")
def tenant_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        "provisioning/tenants/list.html",
        queryset=tenants_with_counts(),
        table_class=TenantTable,
        filterset_class=TenantFilterSet,
        filters=("has_registries",),
    )


@requires("view")
def tenant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=pk)
    registries = RegistryTable(Registry.objects.with_related().filter(tenant=tenant), request)
    events = AuditEvent.objects.filter(
        Q(target_type="tenant", target_id=str(tenant.pk)) | Q(registry__tenant=tenant)
    )[:15]
    return render(
        request,
        "provisioning/tenants/detail.html",
        {"tenant": tenant, "table": registries, "events": events},
    )


@requires("create")
def tenant_create(request: HttpRequest) -> HttpResponse:
    form = TenantForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        tenant = form.save()
        audit.record(
            request.user, Via.UI, "create", tenant, changes={f: form.cleaned_data[f] for f in form.fields}
        )
        messages.success(request, f"Tenant {tenant.slug} created.")
        return redirect("provisioning:tenant-detail", pk=tenant.pk)
    return render(
        request, "provisioning/tenants/form.html", {"form": form}, status=400 if form.errors else 200
    )


@requires("change")
def tenant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tenant = get_object_or_404(Tenant, pk=pk)
    before = {f: getattr(tenant, f) for f in TenantForm.Meta.fields}
    form = TenantForm(request.POST if request.method == "POST" else None, instance=tenant)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            tenant = form.save()
            after = {f: getattr(tenant, f) for f in TenantForm.Meta.fields}
            audit.record(request.user, Via.UI, "update", tenant, changes=audit.diff(before, after))
            messages.success(request, f"Tenant {tenant.slug} saved.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("provisioning:tenant-detail", pk=tenant.pk)
    return render(
        request,
        "provisioning/tenants/form.html",
        {"form": form, "tenant": tenant},
        status=400 if form.errors else 200,
    )
