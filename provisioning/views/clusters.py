"""Cluster pages: the Kubernetes targets and their shared services; administrators create and edit them.

Saving goes through :func:`provisioning.services.clusters.save_cluster`, which checks the Kubernetes access and the
admin connection strings before anything is stored. Secrets are write-only here: never rendered, only replaced or
removed.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from provisioning.choices import Phase, Via
from provisioning.filtersets import ClusterFilterSet
from provisioning.forms import CLUSTER_SECRET_FIELDS, ClusterForm
from provisioning.models import Cluster, Registry
from provisioning.services.clusters import save_cluster
from provisioning.services.errors import ActionRefused
from provisioning.services.placement import cluster_uses
from provisioning.tables import ClusterTable, RegistryTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list


def clusters_with_counts() -> QuerySet[Cluster]:
    return Cluster.objects.annotate(
        registry_count=Count("registries", filter=~Q(registries__phase__in=[Phase.DELETED, Phase.PURGED]))
    )


@requires("view")
def cluster_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        "provisioning/clusters/list.html",
        queryset=clusters_with_counts(),
        table_class=ClusterTable,
        filterset_class=ClusterFilterSet,
        filters=("region", "simulated"),
    )


@requires("view")
def cluster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(clusters_with_counts(), pk=pk)
    registries = RegistryTable(Registry.objects.with_related().filter(cluster=cluster), request)
    secrets = [(name.replace("_", " "), bool(getattr(cluster, name))) for name in CLUSTER_SECRET_FIELDS]
    return render(
        request,
        "provisioning/clusters/detail.html",
        {
            "cluster": cluster,
            "table": registries,
            "secrets": secrets,
            "health": cluster.health(),
            "use": cluster_uses([cluster])[cluster.pk],
        },
    )


def _save(request: HttpRequest, form: ClusterForm) -> Cluster | None:
    """Save through the service (which checks the cluster's access and connections, and audits); its errors go on
    the fields, its warnings (e.g. no worker on the queue) are shown on the next page."""
    try:
        saved = save_cluster(form.instance, actor=request.user, via=Via.UI)
    except (ValidationError, ActionRefused) as exc:
        form.add_service_error(exc)
        return None
    for warning in saved.warnings:
        messages.warning(request, warning)
    return saved.cluster


@requires("manage_clusters")
def cluster_create(request: HttpRequest) -> HttpResponse:
    form = ClusterForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        cluster = _save(request, form)
        if cluster is not None:
            messages.success(request, f"Cluster {cluster.name} created.")
            return redirect("provisioning:cluster-detail", pk=cluster.pk)
    return render(
        request, "provisioning/clusters/form.html", {"form": form}, status=400 if form.errors else 200
    )


@requires("manage_clusters")
def cluster_edit(request: HttpRequest, pk: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, pk=pk)
    form = ClusterForm(request.POST if request.method == "POST" else None, instance=cluster)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form)
        if saved is not None:
            messages.success(request, f"Cluster {saved.name} saved.")
            return redirect("provisioning:cluster-detail", pk=saved.pk)
    return render(
        request,
        "provisioning/clusters/form.html",
        {"form": form, "cluster": cluster},
        status=400 if form.errors else 200,
    )
