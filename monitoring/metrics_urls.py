"""The console's own /metrics endpoint for Prometheus."""

urlpatterns: list = []
