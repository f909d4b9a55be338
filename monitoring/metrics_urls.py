"""The console's own /metrics endpoint for Prometheus."""

from django.urls import path

from monitoring import views_metrics

urlpatterns = [path("metrics", views_metrics.metrics, name="metrics")]
