"""REST API v1 routes of the monitoring app (under /api/v1/monitoring/)."""

from django.urls import path, re_path

from monitoring.api import views
from provisioning.api.views.fallback import not_found

app_name = "monitoring-api"
urlpatterns = [
    path("fleet/", views.FleetView.as_view(), name="fleet"),
    path("business/", views.BusinessView.as_view(), name="business"),
    path("queries/", views.QueryCatalogueView.as_view(), name="queries"),
    path("registries/<int:pk>/", views.RegistrySummaryView.as_view(), name="registry"),
    path("registries/<int:pk>/series/", views.RegistrySeriesView.as_view(), name="registry-series"),
    re_path(r"^[\s\S]*$", not_found, name="not-found"),
]
