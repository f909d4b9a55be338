"""Running an operation on a registry: a confirmation page, then the service function, then live progress.

GET shows what the operation does (and asks for a version, credentials or the registry's name where needed);
POST runs it through :mod:`provisioning.services` — which audits and enqueues — and sends the user back to the
registry's page, where the run's progress is polled until it ends.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from provisioning.choices import Via
from provisioning.forms import ConfirmNameForm, RotateForm, UpgradeForm
from provisioning.models import ReconcileRun, Registry
from provisioning.permissions import require
from provisioning.services import registries as registry_service
from provisioning.services.errors import ActionRefused
from provisioning.services.rotation import rotate_credentials
from provisioning.views.access import forbidden, requires
from provisioning.views.operations import OPERATIONS, Operation


def _form_for(op: Operation, registry: Registry, data: Any) -> forms.Form | None:
    if op.name == "upgrade":
        return UpgradeForm(data, registry=registry)
    if op.name == "rotate":
        return RotateForm(data, registry=registry)
    if op.confirm_with_name:
        return ConfirmNameForm(data, registry=registry)
    return None


def _perform(op: Operation, registry: Registry, form: forms.Form | None, user: Any) -> ReconcileRun | None:
    data = form.cleaned_data if form is not None else {}
    if op.name == "reconcile":
        return registry_service.reconcile_now(registry, actor=user, via=Via.UI)
    if op.name == "suspend":
        return registry_service.suspend(registry, actor=user, via=Via.UI)
    if op.name == "resume":
        return registry_service.resume(registry, actor=user, via=Via.UI)
    if op.name == "upgrade":
        return registry_service.upgrade(registry, data["target_version"], actor=user, via=Via.UI)
    if op.name == "delete":
        return registry_service.delete(registry, actor=user, via=Via.UI)
    if op.name == "purge":
        return registry_service.purge(registry, actor=user, via=Via.UI)
    if op.name == "rotate":
        return rotate_credentials(registry, data["kinds"], actor=user, via=Via.UI)
    raise Http404(f"No operation {op.name!r}.")


@requires("view")
def registry_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    op = OPERATIONS.get(name)
    if op is None:
        raise Http404(f"No operation {name!r}.")
    try:
        require(request.user, op.permission)
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    registry = get_object_or_404(Registry.objects.with_related(), pk=pk)
    form = _form_for(op, registry, request.POST if request.method == "POST" else None)
    refusal = ""
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            run = _perform(op, registry, form, request.user)
        except ActionRefused as exc:
            refusal = exc.message
            if form is not None and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
        else:
            messages.success(request, f"{op.label}: requested for {registry}.")
            url = reverse("provisioning:registry-detail", args=[registry.pk])
            return redirect(f"{url}?run={run.pk}#progress" if run is not None else url)
    status = 409 if refusal else (400 if form is not None and form.errors else 200)
    context = {
        "op": op,
        "registry": registry,
        "form": form,
        "refusal": refusal,
        "applies": op.applies(registry),
        "purge_allowed_at": registry_service.purge_allowed_at(registry),
    }
    return render(request, "provisioning/actions/confirm.html", context, status=status)
