"""Monitoring pages."""

from django.urls import path

from monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.fleet, name="fleet"),
    path("business/", views.business, name="business"),
    path("registries/<int:pk>/", views.registry, name="registry"),
    path("registries/<int:pk>/panel", views.registry_panel, name="registry-panel"),
]
