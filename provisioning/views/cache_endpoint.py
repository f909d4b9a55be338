"""The form on which support staff record the Redis the provider's Redis service handed out for a registry."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from provisioning.choices import CacheMode, Via
from provisioning.forms import CacheEndpointForm
from provisioning.services.cache_endpoints import set_cache_endpoint
from provisioning.services.errors import ActionRefused
from provisioning.views.access import requires
from provisioning.views.registry_page import registry_for_page


@requires("change")
def cache_endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    registry = registry_for_page(pk)
    binding = getattr(registry, "cache", None)
    if binding is None or binding.mode != CacheMode.PROVIDER:
        messages.error(
            request, f"{registry} runs its own Redis in its namespace: there is no endpoint to record."
        )
        return redirect("provisioning:registry-detail", pk=registry.pk)
    form = CacheEndpointForm(request.POST if request.method == "POST" else None, binding=binding)
    if request.method == "POST" and form.is_valid():
        try:
            set_cache_endpoint(registry, form.cleaned_data, actor=request.user, via=Via.UI)
        except (ValidationError, ActionRefused) as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Redis endpoint of {registry} saved: a reconciliation checks it.")
            return redirect("provisioning:registry-detail", pk=registry.pk)
    return render(
        request,
        "provisioning/registries/cache_endpoint.html",
        {"form": form, "registry": registry, "binding": binding},
        status=400 if form.errors else 200,
    )
