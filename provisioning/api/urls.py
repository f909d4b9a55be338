"""REST API v1 routes of the provisioning app."""

from rest_framework.routers import DefaultRouter

app_name = "api"

router = DefaultRouter()
urlpatterns = router.urls
