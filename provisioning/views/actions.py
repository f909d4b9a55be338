"""Running an operation on a registry: a confirmation page, then the service function, then live progress.

GET shows what the operation does (and asks for a version, credentials or the registry's name where needed);
POST runs it through :mod:`provisioning.services` — which audits and enqueues — and sends the user back to the
registry's page, where the run's progress is polled until it ends (an upgrade: to the upgrade's own page).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from provisioning.models import Registry
from provisioning.permissions import require
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import purge_allowed_at
from provisioning.views.access import forbidden, requires
from provisioning.views.operations import OPERATIONS


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
    refusal = op.refusal(registry)
    form = None if refusal else op.form_for(registry, request.POST if request.method == "POST" else None)
    if request.method == "POST" and not refusal and (form is None or form.is_valid()):
        try:
            result = op.perform(registry, form.cleaned_data if form is not None else {}, request.user)
        except ActionRefused as exc:
            refusal = exc.message
            if form is not None and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
        else:
            level, message, url = op.outcome(registry, result)
            messages.add_message(request, level, message)
            return redirect(url)
    status = 409 if refusal else (400 if form is not None and form.errors else 200)
    context = {
        "op": op,
        "registry": registry,
        "form": form,
        "refusal": refusal,
        "warning": op.warning(registry),
        "applies": op.applies(registry),
        "purge_allowed_at": purge_allowed_at(registry),
    }
    return render(request, "provisioning/actions/confirm.html", context, status=status)
