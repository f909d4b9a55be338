"""URL wiring: the web console, the REST API v1, its schema and docs, health probes, Prometheus metrics."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from monitoring import views as monitoring_views
from provisioning.api.schema import schema_view, swagger_view
from provisioning.forms import LoginForm
from provisioning.views import favicon, health

urlpatterns = [
    path("healthz/live", health.live, name="health-live"),
    path("healthz/ready", health.ready, name="health-ready"),
    path(
        "login/",
        auth_views.LoginView.as_view(form_class=LoginForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/schema/", schema_view, name="api-schema"),
    path("api/docs/", swagger_view, name="api-docs"),
    path("api/redoc/", RedirectView.as_view(pattern_name="api-docs", permanent=True), name="api-redoc"),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("api/v1/", include("provisioning.api.urls")),
    path("api/v1/monitoring/", include("monitoring.api.urls")),
    path("monitoring/", include("monitoring.urls")),
    path("", monitoring_views.fleet, name="home"),
    path("", include("monitoring.metrics_urls")),
    path("", include("provisioning.urls")),
]

handler404 = "provisioning.api.errors.page_not_found"
handler500 = "provisioning.api.errors.server_error"
