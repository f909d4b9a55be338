"""Registry pages: the list, the create and edit forms (with a manifest preview), and a registry's own page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from harborconsole import tracing
from provisioning.choices import Via
from provisioning.filtersets import RegistryFilterSet
from provisioning.forms import RegistryCreateForm, RegistryEditForm, plan_default_hints
from provisioning.models import Plan, Registry, Tenant
from provisioning.reconcile.errors import InvalidSpec
from provisioning.reconcile.export import export_manifests_yaml
from provisioning.services import registries as registry_service
from provisioning.services.cluster_usability import named_warning
from provisioning.services.errors import ActionRefused
from provisioning.services.preview import preview_changes
from provisioning.tables import RegistryTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list
from provisioning.views.live import live_response
from provisioning.views.registry_page import (
    activity_context,
    detail_context,
    live_context,
    registry_for_page,
    run_for_status,
)


@requires("view")
def registry_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        "provisioning/registries/list.html",
        queryset=Registry.objects.with_related(),
        table_class=RegistryTable,
        filterset_class=RegistryFilterSet,
        filters=("phase", "needs_attention", "harbor_version", "plan", "cluster", "tenant"),
    )


@requires("view")
def registry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    registry = registry_for_page(pk)
    response = render(request, "provisioning/registries/detail.html", detail_context(request, registry))
    return live_response(request, response)


@requires("view")
@require_GET
def registry_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The live region of a registry's page: header and actions, facts, health, phase, components, conditions
    and services; polled in every state (see :mod:`provisioning.views.live`)."""
    registry = registry_for_page(pk)
    response = render(request, "provisioning/registries/live.html", live_context(request, registry))
    return live_response(request, response)


@requires("view")
@require_GET
def registry_activity(request: HttpRequest, pk: int) -> HttpResponse:
    """Objects, runs and timeline of a registry: a live region too, also refreshed at once when a run ends."""
    registry = get_object_or_404(Registry.objects.with_related(), pk=pk)
    response = render(request, "provisioning/registries/activity.html", activity_context(registry))
    return live_response(request, response)


@requires("view")
@require_GET
def run_status(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    """One run's progress, polled every 1.5 s until it ends; its end tells the page to refresh its status."""
    run = run_for_status(pk, run_pk)
    response = render(
        request, "provisioning/registries/run_status.html", {"run": run, "registry": run.registry}
    )
    if not run.is_open:
        response["HX-Trigger"] = "run-finished"
    return response


@requires("view")
def run_detail(request: HttpRequest, pk: int, run_pk: int) -> HttpResponse:
    run = run_for_status(pk, run_pk)
    context = {"run": run, "registry": run.registry, "trace_url": tracing.trace_url(run.trace_id)}
    return render(request, "provisioning/registries/run_detail.html", context)


@requires("view")
@require_GET
def plan_defaults(request: HttpRequest) -> HttpResponse:
    """The override hints for the plan chosen in a form, swapped in place by htmx."""
    plan_id = request.GET.get("plan", "")
    plan = Plan.objects.filter(pk=int(plan_id)).first() if plan_id.isdigit() else None
    return render(request, "provisioning/registries/plan_hints.html", {"hints": plan_default_hints(plan)})


@requires("create")
def registry_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    tenant_id = request.GET.get("tenant", "")
    if tenant_id.isdigit() and Tenant.objects.filter(pk=int(tenant_id)).exists():
        initial["tenant"] = int(tenant_id)
    form = RegistryCreateForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            registry = registry_service.create_registry(
                actor=request.user, via=Via.UI, **form.service_fields()
            )
        except (ValidationError, ActionRefused) as exc:
            form.add_service_error(exc)
        except IntegrityError:
            form.add_error(None, "A registry with this name or host name was just created by someone else.")
        else:
            messages.success(request, f"Registry {registry} created: its first reconciliation is queued.")
            if form.cleaned_data.get("cluster"):
                warning = named_warning(registry.cluster)
                if warning:
                    messages.warning(request, warning)
            return redirect("provisioning:registry-detail", pk=registry.pk)
    return render(
        request, "provisioning/registries/create.html", {"form": form}, status=400 if form.errors else 200
    )


@requires("change")
def registry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a registry; "Preview" shows the objects the change would apply before anything is saved."""
    registry = registry_for_page(pk)
    form = RegistryEditForm(request.POST if request.method == "POST" else None, registry=registry)
    preview = None
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        if "preview" in request.POST:
            try:
                preview = preview_changes(registry, changes)
            except (ValidationError, ActionRefused) as exc:
                form.add_service_error(exc)
        elif not changes:
            messages.info(request, "Nothing changed.")
            return redirect("provisioning:registry-detail", pk=registry.pk)
        else:
            try:
                registry_service.update_registry(registry, changes, actor=request.user, via=Via.UI)
            except (ValidationError, ActionRefused) as exc:
                form.add_service_error(exc)
            except IntegrityError:
                form.add_error("hostname", "This host name was just taken by another registry.")
            else:
                messages.success(request, f"Registry {registry} saved: a reconciliation is queued.")
                warning = named_warning(changes["cluster"]) if "cluster" in changes else None
                if warning:
                    messages.warning(request, warning)
                return redirect("provisioning:registry-detail", pk=registry.pk)
    return render(
        request,
        "provisioning/registries/edit.html",
        {"form": form, "registry": registry, "preview": preview},
        status=400 if form.errors else 200,
    )


@requires("view")
@require_GET
def registry_manifests(request: HttpRequest, pk: int) -> HttpResponse:
    """Every object of the registry's stack as one YAML document, secrets redacted, as a download."""
    registry = get_object_or_404(Registry.objects.with_related(), pk=pk)
    try:
        manifests = export_manifests_yaml(registry)
    except InvalidSpec as exc:
        messages.error(request, f"The manifests of {registry} cannot be exported yet: {exc}")
        return redirect("provisioning:registry-detail", pk=registry.pk)
    response = HttpResponse(manifests, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{registry.namespace}.yaml"'
    return response
