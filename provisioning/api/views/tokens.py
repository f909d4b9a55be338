"""The caller's own API tokens: list, create (the key is shown once), revoke. Nobody sees another's tokens."""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins
from rest_framework.request import Request
from rest_framework.response import Response

from provisioning.api.idempotency import HEADER
from provisioning.api.serializers.tokens import ApiTokenSerializer, NewApiTokenSerializer
from provisioning.api.views.base import ApiViewSet
from provisioning.choices import Via
from provisioning.filtersets import ApiTokenFilterSet
from provisioning.models import ApiToken
from provisioning.services.tokens import create_token


@extend_schema(tags=["tokens"])
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilterSet
    ordering_fields = ["created_at", "expires_at", "last_used_at", "name"]
    action_permissions = {"list": "view", "retrieve": "view", "create": "view", "destroy": "view"}
    location_actions = ("create",)

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user_id=int(self.request.user.pk or 0)).order_by("-created_at", "-id")

    @extend_schema(request=ApiTokenSerializer, responses={201: NewApiTokenSerializer})
    def create(self, request: Request) -> Response:
        """Create a token for yourself, with a scope within your role and a lifetime. The answer holds the key; it is
        never shown again.

        ``Idempotency-Key`` is refused here: replaying the first answer would mean storing the key.
        """
        if HEADER in request.headers:
            raise exceptions.ValidationError(
                {
                    HEADER: [
                        "Not accepted when creating a token: its key is shown once and never stored, so a first "
                        "answer cannot be replayed. A retry creates another token; revoke the one you do not use."
                    ]
                }
            )
        serializer = ApiTokenSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token, raw = create_token(
            request.user, data["name"], via=Via.API, scope=data.get("scope"), days=data.get("expires_in_days")
        )
        token.key = raw  # type: ignore[attr-defined]
        return self.created(NewApiTokenSerializer(token, context=self.get_serializer_context()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        """Revoke one of your tokens: it stops working at once. Revoking a revoked token changes nothing."""
        token = self.get_object()
        if token.revoked_at is None:
            with transaction.atomic():
                token.revoke()
                self.audit("revoke", token, changes={"name": token.name, "prefix": token.prefix})
        return Response(status=204)
