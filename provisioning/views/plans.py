"""Plan pages: every plan with its defaults and limits; administrators create and edit them."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from provisioning import audit
from provisioning.choices import Phase, Via
from provisioning.filtersets import PlanFilterSet
from provisioning.forms import PlanForm
from provisioning.models import Plan
from provisioning.services import plans
from provisioning.tables import PlanTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list


def plans_with_counts() -> QuerySet[Plan]:
    return Plan.objects.annotate(
        registry_count=Count("registries", filter=~Q(registries__phase=Phase.PURGED))
    )


@requires("view")
def plan_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        "provisioning/plans/list.html",
        queryset=plans_with_counts(),
        table_class=PlanTable,
        filterset_class=PlanFilterSet,
        filters=("trivy_enabled", "ha"),
    )


@requires("view")
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(plans_with_counts(), pk=pk)
    return render(request, "provisioning/plans/detail.html", {"plan": plan})


@requires("manage_plans")
def plan_create(request: HttpRequest) -> HttpResponse:
    form = PlanForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        plan = form.save()
        audit.record(request.user, Via.UI, "create", plan, changes=plans.snapshot(plan))
        messages.success(request, f"Plan {plan} created.")
        return redirect("provisioning:plan-detail", pk=plan.pk)
    return render(request, "provisioning/plans/form.html", {"form": form}, status=400 if form.errors else 200)


@requires("manage_plans")
def plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a plan's defaults; every live registry on the plan is reconciled with them (plans.update_plan)."""
    plan = get_object_or_404(Plan, pk=pk)
    form = PlanForm(request.POST if request.method == "POST" else None, instance=plan)
    if request.method == "POST" and form.is_valid():
        if form.has_changed():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            plan = plans.update_plan(plan, changes, actor=request.user, via=Via.UI)
            messages.success(request, f"Plan {plan} saved; the registries on it are being reconciled.")
        else:
            messages.info(request, "Nothing changed.")
        return redirect("provisioning:plan-detail", pk=plan.pk)
    return render(
        request,
        "provisioning/plans/form.html",
        {"form": form, "plan": plan},
        status=400 if form.errors else 200,
    )
