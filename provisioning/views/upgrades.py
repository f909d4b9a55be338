"""Upgrade and wave pages: a registry's upgrade step by step, the waves list, a wave's batches live.

Thin views over :mod:`provisioning.upgrades`: every change goes through its functions (which audit), a refusal is
shown with its reason and changes nothing. The live parts poll through :mod:`provisioning.views.live`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from provisioning import catalogue
from provisioning.api.views.upgrades import wave_queryset
from provisioning.choices import Via
from provisioning.models import Registry, Upgrade, Wave
from provisioning.permissions import can, require
from provisioning.services.errors import ActionRefused
from provisioning.services.registries import refuse_upgrade
from provisioning.upgrades import operation, waves
from provisioning.views.access import forbidden, requires
from provisioning.views.live import live_response


class WaveForm(forms.ModelForm):
    class Meta:
        model = Wave
        fields = list(Wave.PLANNED_FIELDS)
        widgets = {
            "target_version": forms.Select(choices=[(v, v) for v in reversed(catalogue.SUPPORTED_VERSIONS)]),
            "from_version": forms.Select(
                choices=[("", "any"), *((v, v) for v in reversed(catalogue.SUPPORTED_VERSIONS))]
            ),
        }


@requires("view")
def wave_list(request: HttpRequest) -> HttpResponse:
    """Every wave, newest first; operators plan a new one here (its batches are fixed at once)."""
    form = WaveForm(request.POST or None) if can(request.user, "upgrade") else None
    if request.method == "POST":
        if form is None:
            return forbidden(request, "Planning a wave needs the operator role.")
        if form.is_valid():
            try:
                wave = waves.plan_wave(form.save(commit=False), actor=request.user, via=Via.UI)
            except ActionRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, f"Wave {wave} planned: start it when ready.")
                return redirect("provisioning:wave-detail", pk=wave.pk)
    page = Paginator(Wave.objects.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    status = 400 if form is not None and form.errors else 200
    return render(
        request, "provisioning/upgrades/wave_list.html", {"page": page, "form": form}, status=status
    )


@requires("view")
@require_GET
def wave_detail(request: HttpRequest, pk: int) -> HttpResponse:
    wave = get_object_or_404(wave_queryset(), pk=pk)
    return render(request, "provisioning/upgrades/wave_detail.html", {"wave": wave})


@requires("view")
@require_GET
def wave_live(request: HttpRequest, pk: int) -> HttpResponse:
    """The wave's state and batches: the live region of its page."""
    wave = get_object_or_404(wave_queryset(), pk=pk)
    return live_response(request, render(request, "provisioning/upgrades/wave_live.html", {"wave": wave}))


WAVE_ACTIONS: dict[str, Callable[..., Any]] = {
    "start": waves.start_wave,
    "resume": waves.resume_wave,
    "abort": waves.abort_wave,
}


@requires("view")
def wave_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """POST takes the action; GET (a bookmark, a crawler) only leads back to the wave."""
    perform = WAVE_ACTIONS.get(name)
    if perform is None:
        raise Http404(f"No wave action {name!r}.")
    if request.method != "POST":
        return redirect("provisioning:wave-detail", pk=get_object_or_404(Wave, pk=pk).pk)
    try:
        require(request.user, "upgrade")
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    wave = get_object_or_404(Wave, pk=pk)
    try:
        perform(wave, actor=request.user, via=Via.UI)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Wave {wave}: {name} done.")
    return redirect("provisioning:wave-detail", pk=pk)


class TargetVersionField(forms.ChoiceField):
    """Offers the versions the registry may move to, but takes any supported one: a path the catalogue forbids is
    then refused with its reason, as every upgrade entry point refuses it
    (:func:`provisioning.services.registries.refuse_upgrade`)."""

    def valid_value(self, value: Any) -> bool:
        return str(value) in catalogue.SUPPORTED_VERSIONS


class UpgradeForm(forms.Form):
    target_version = TargetVersionField()
    budget_seconds = forms.IntegerField(
        min_value=60, max_value=86_400, initial=operation.DEFAULT_BUDGET_SECONDS
    )

    def __init__(self, registry: Registry, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        targets = catalogue.upgrade_targets(registry.harbor_version)
        field = self.fields["target_version"]
        assert isinstance(field, TargetVersionField)
        field.choices = [(v, v) for v in targets]


@requires("view")
def registry_upgrade(request: HttpRequest, pk: int) -> HttpResponse:
    """A registry's latest upgrade step by step (a live region of its page); operators start one here."""
    registry = get_object_or_404(Registry.objects.with_related(), pk=pk)
    form = UpgradeForm(registry, request.POST or None) if can(request.user, "upgrade") else None
    status = 200
    if request.method == "POST":
        if form is None:
            return forbidden(request, "Upgrading needs the operator role.")
        if form.is_valid():
            full = Registry.objects.select_related("cluster", "database", "cache", "storage").get(pk=pk)
            try:
                refuse_upgrade(full, form.cleaned_data["target_version"])
                started = operation.start_upgrade(
                    full,
                    form.cleaned_data["target_version"],
                    actor=request.user,
                    via=Via.UI,
                    budget_seconds=form.cleaned_data["budget_seconds"],
                )
            except ActionRefused as exc:  # as every entry point refuses: nothing changed
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                status = exc.status
            else:
                if started.is_open:
                    messages.success(
                        request, f"Upgrade of {registry} to Harbor {started.to_version} started."
                    )
                else:
                    messages.error(request, started.reason)
                return redirect("provisioning:registry-upgrade", pk=pk)
        else:
            status = 400
    upgrade = Upgrade.objects.filter(registry=registry).order_by("-created_at", "-id").first()
    context = {"registry": registry, "upgrade": upgrade, "form": form}
    if getattr(request, "htmx", False):
        return live_response(request, render(request, "provisioning/upgrades/progress.html", context))
    return render(request, "provisioning/upgrades/registry_upgrade.html", context, status=status)


UPGRADE_ACTIONS: dict[str, Callable[..., Any]] = {"resume": operation.resume, "rollback": operation.rollback}


@requires("view")
def upgrade_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """POST takes the action; GET only leads back to the registry's upgrade page."""
    perform = UPGRADE_ACTIONS.get(name)
    if perform is None:
        raise Http404(f"No upgrade action {name!r}.")
    if request.method != "POST":
        upgrade = get_object_or_404(Upgrade, pk=pk)
        return redirect("provisioning:registry-upgrade", pk=upgrade.registry_id)
    try:
        require(request.user, "upgrade")
    except PermissionDenied as exc:
        return forbidden(request, str(exc))
    upgrade = get_object_or_404(Upgrade.objects.select_related("registry"), pk=pk)
    try:
        perform(upgrade, actor=request.user, via=Via.UI)
    except ActionRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Upgrade of {upgrade.registry}: {name} done.")
    return redirect("provisioning:registry-upgrade", pk=upgrade.registry_id)
