"""Webhook pages (administrators): subscriptions, their form, and each one's delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from provisioning import audit
from provisioning.choices import Via
from provisioning.models import DeliveryAttempt, WebhookDelivery, WebhookSubscription
from provisioning.views.access import requires
from provisioning.webhook_forms import WebhookForm

LOG_LENGTH = 50


def snapshot(subscription: WebhookSubscription) -> dict[str, object]:
    """What an audit event records of a subscription (the secret only as changed or not)."""
    return {name: getattr(subscription, name) for name in WebhookSubscription.EDITABLE_FIELDS}


@requires("manage_webhooks")
def webhook_list(request: HttpRequest) -> HttpResponse:
    subscriptions = WebhookSubscription.objects.select_related("owner").order_by("name", "id")
    return render(request, "provisioning/webhooks/list.html", {"subscriptions": subscriptions})


@requires("manage_webhooks")
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription.objects.select_related("owner"), pk=pk)
    attempts = Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("number"))
    deliveries = (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related(attempts)
        .order_by("-id")[:LOG_LENGTH]
    )
    context = {"subscription": subscription, "deliveries": deliveries, "log_length": LOG_LENGTH}
    return render(request, "provisioning/webhooks/detail.html", context)


@requires("manage_webhooks")
def webhook_create(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            subscription = form.save(commit=False)
            subscription.owner = request.user
            subscription.save()
            audit.record(request.user, Via.UI, "create", subscription, changes=snapshot(subscription))
        messages.success(request, f"Webhook {subscription} created.")
        return redirect("provisioning:webhook-detail", pk=subscription.pk)
    return render(
        request, "provisioning/webhooks/form.html", {"form": form}, status=400 if form.errors else 200
    )


@requires("manage_webhooks")
def webhook_edit(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    before = {**snapshot(subscription), "secret": subscription.secret}
    form = WebhookForm(request.POST if request.method == "POST" else None, instance=subscription)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            changes = audit.diff(before, {**snapshot(saved), "secret": saved.secret})
            if changes:
                audit.record(request.user, Via.UI, "update", saved, changes=changes)
        messages.success(request, f"Webhook {saved} saved." if changes else "Nothing changed.")
        return redirect("provisioning:webhook-detail", pk=saved.pk)
    context = {"form": form, "subscription": subscription}
    return render(request, "provisioning/webhooks/form.html", context, status=400 if form.errors else 200)


@require_POST
@requires("manage_webhooks")
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = get_object_or_404(WebhookSubscription, pk=pk)
    with transaction.atomic():
        audit.record(request.user, Via.UI, "delete", subscription, changes=snapshot(subscription))
        subscription.delete()
    messages.success(request, f"Webhook {subscription} deleted; its pending deliveries are dropped.")
    return redirect("provisioning:webhook-list")
