"""The audit log: who did what to which object, through which door, filterable like the API's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from provisioning.filtersets import AuditEventFilterSet
from provisioning.models import AuditEvent
from provisioning.tables import AuditTable
from provisioning.views.access import requires
from provisioning.views.listing import render_list


@requires("view")
def audit_list(request: HttpRequest) -> HttpResponse:
    return render_list(
        request,
        "provisioning/audit/list.html",
        queryset=AuditEvent.objects.all(),
        table_class=AuditTable,
        filterset_class=AuditEventFilterSet,
        filters=("action", "actor", "via", "target_type", "tenant", "after", "before"),
    )
