"""A registry's provider Redis endpoint: read it (without its password), record or change it (operators).

The write goes through :func:`provisioning.services.cache_endpoints.set_cache_endpoint`, the function the console's
form calls too: it checks the endpoint belongs to no other registry (a 400 on ``host``), audits the change with the
password masked, and queues the registry's reconciliation. ``If-Match`` is checked against the registry's ETag.
"""

from __future__ import annotations

from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning.api.etag import check_if_match
from provisioning.api.serializers.cache_endpoint import CacheEndpointSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.choices import Via
from provisioning.models import CacheBinding, Registry
from provisioning.services.cache_endpoints import set_cache_endpoint


@extend_schema(tags=["registries"])
class CacheEndpointViewSet(ApiViewSet):
    serializer_class = CacheEndpointSerializer
    action_permissions = {"retrieve": "view", "update": "change", "partial_update": "change"}
    if_match_actions = ("update", "partial_update")
    error_codes = dict.fromkeys(("update", "partial_update"), (409,))

    def get_object(self) -> CacheBinding:
        """The binding of the registry in the URL (also what OPTIONS inspects), or 404."""
        return self.binding()

    def binding(self) -> CacheBinding:
        return get_object_or_404(
            CacheBinding.objects.select_related("registry__tenant"), registry_id=self.kwargs["pk"]
        )

    @extend_schema(responses={200: CacheEndpointSerializer})
    def retrieve(self, request: Request, pk: str) -> Response:
        """The registry's Redis endpoint and its last check; never its password."""
        return Response(CacheEndpointSerializer(self.binding()).data)

    @extend_schema(request=CacheEndpointSerializer, responses={200: CacheEndpointSerializer})
    def update(self, request: Request, pk: str) -> Response:
        """Record the Redis the provider's Redis service handed out for this registry (provider mode only)."""
        return self._save(request, partial=False)

    @extend_schema(request=CacheEndpointSerializer, responses={200: CacheEndpointSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        """Change some of the endpoint's fields; the others are kept."""
        return self._save(request, partial=True)

    def _save(self, request: Request, *, partial: bool) -> Response:
        serializer = CacheEndpointSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            registry = get_object_or_404(
                Registry.objects.select_for_update(of=("self",)).with_related(), pk=self.kwargs["pk"]
            )
            check_if_match(request, registry)
            set_cache_endpoint(registry, dict(serializer.validated_data), actor=request.user, via=Via.API)
        return Response(CacheEndpointSerializer(self.binding()).data)
