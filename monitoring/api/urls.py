"""REST API v1 routes of the monitoring app."""

app_name = "monitoring-api"
urlpatterns: list = []
