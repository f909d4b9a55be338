"""REST API v1 routes of the provisioning app (``/api/v1/``); monitoring serves ``/api/v1/monitoring/``."""

from django.urls import path, re_path
from rest_framework.routers import DefaultRouter

from provisioning.api.views.audit import AuditEventViewSet
from provisioning.api.views.bulk import BulkOperationViewSet, RegistryBulkViewSet
from provisioning.api.views.cache_endpoint import CacheEndpointViewSet
from provisioning.api.views.clusters import ClusterViewSet
from provisioning.api.views.events import EventStreamView
from provisioning.api.views.fallback import not_found
from provisioning.api.views.plans import PlanViewSet
from provisioning.api.views.registries import RegistryViewSet
from provisioning.api.views.root import ConsoleRootView
from provisioning.api.views.runs import ReconcileRunViewSet
from provisioning.api.views.tenants import TenantViewSet
from provisioning.api.views.tokens import ApiTokenViewSet
from provisioning.api.views.upgrades import UpgradeViewSet, WaveViewSet
from provisioning.api.views.webhooks import WebhookSubscriptionViewSet

app_name = "api"

router = DefaultRouter()
router.APIRootView = ConsoleRootView
router.register("tenants", TenantViewSet, basename="tenant")
router.register("plans", PlanViewSet, basename="plan")
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("registries", RegistryViewSet, basename="registry")
router.register("runs", ReconcileRunViewSet, basename="reconcilerun")
router.register("audit-events", AuditEventViewSet, basename="auditevent")
router.register("tokens", ApiTokenViewSet, basename="apitoken")
router.register("webhooks", WebhookSubscriptionViewSet, basename="webhooksubscription")
router.register("bulk-operations", BulkOperationViewSet, basename="bulkoperation")
router.register("upgrades", UpgradeViewSet, basename="upgrade")
router.register("waves", WaveViewSet, basename="wave")

cache_endpoint = CacheEndpointViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"})

urlpatterns = [
    path("registries/bulk/", RegistryBulkViewSet.as_view({"post": "create"}), name="registry-bulk"),
    path("events/stream", EventStreamView.as_view(), name="event-stream"),
    *router.urls,
    path("registries/<int:pk>/cache-endpoint/", cache_endpoint, name="registry-cache-endpoint"),
    re_path(r"^(?!monitoring/)[\s\S]*$", not_found, name="not-found"),
]
