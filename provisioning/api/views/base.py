"""What every API viewset shares: role checks per action, pagination, filters, ordering, the schema, audit."""

from __future__ import annotations

import builtins
from typing import Any, ClassVar

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from provisioning import audit
from provisioning.api.idempotency import idempotent
from provisioning.api.pagination import ApiPagination
from provisioning.api.parameters import refuse_unknown, view_parameters
from provisioning.api.parsers import LimitedJSONParser
from provisioning.api.schema import ApiAutoSchema
from provisioning.api.serializers.base import model_snapshot
from provisioning.api.serializers.brief import brief_serializer
from provisioning.choices import Via
from provisioning.filtersets import TrueFalseField


class ApiFilterBackend(DjangoFilterBackend):
    """The console's FilterSets, except that a boolean or numeric parameter given empty is an error here: a web
    form sends empty for "any", automation that sends ``?registry=`` has a bug worth hearing about."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            typed = (django_filters.BooleanFilter, django_filters.NumberFilter)
            empty = [
                name
                for name, declared in filterset_class.base_filters.items()
                if isinstance(declared, typed) and "" in request.query_params.getlist(name)
            ]
            if empty:
                raise exceptions.ValidationError(
                    {name: ["Give a value, or leave the parameter out."] for name in empty}
                )
        return super().filter_queryset(request, queryset, view)


class StrictOrderingFilter(OrderingFilter):
    """``ordering`` over the view's ``ordering_fields`` only (an unknown field is a 400), with ``id`` as tiebreak
    so that pages never overlap."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        params = (request.query_params.get(self.ordering_param) or "").strip()
        if not params:
            return self.get_default_ordering(view)
        fields = [param.strip() for param in params.split(",")]
        allowed = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        unknown = [field for field in fields if not field.lstrip("-") or field.lstrip("-") not in allowed]
        if unknown:
            raise exceptions.ValidationError(
                {
                    self.ordering_param: [
                        f"Order by one of {', '.join(sorted(allowed))} (prefix - for descending)."
                    ]
                }
            )
        if not any(field.lstrip("-") in ("id", "pk") for field in fields):
            fields.append("-id" if fields[-1].startswith("-") else "id")
        return fields

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        names = [name if isinstance(name, str) else name[0] for name in getattr(view, "ordering_fields", [])]
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": "Order by these fields, comma-separated; prefix one with - for descending.",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]},
                },
                "style": "form",
                "explode": False,
            }
        ]


class ApiViewSet(viewsets.GenericViewSet):
    """Base of every API viewset.

    ``action_permissions`` maps every DRF action of the viewset to a permission action of
    :mod:`provisioning.permissions` (checked by :class:`provisioning.api.permissions.RolePermission`);
    ``error_codes`` lists, per action, the error statuses the schema documents beyond the common ones.
    Query parameters other than a list's filters, ordering and paging (or ``query_parameters`` of the action)
    are refused with 400 (:mod:`provisioning.api.parameters`).
    """

    schema = ApiAutoSchema()
    parser_classes = [LimitedJSONParser]
    lookup_value_regex = "[0-9]+"
    pagination_class = ApiPagination
    filter_backends = [ApiFilterBackend, StrictOrderingFilter]
    action_permissions: ClassVar[dict[str, str]] = {}
    error_codes: ClassVar[dict[str, tuple[int, ...]]] = {}
    idempotent_actions: ClassVar[tuple[str, ...]] = ()
    if_match_actions: ClassVar[tuple[str, ...]] = ()
    etag_actions: ClassVar[tuple[str, ...]] = ()
    location_actions: ClassVar[tuple[str, ...]] = ()
    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {}

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if self.action is None and request.method not in ("OPTIONS", "HEAD"):
            raise exceptions.MethodNotAllowed(request.method or "")
        if self.action and self.action != "metadata" and self.action not in self.action_permissions:
            raise exceptions.PermissionDenied("This action has no permission rule; it is refused.")
        super().initial(request, *args, **kwargs)
        refuse_unknown(request, view_parameters(self))

    def brief(self) -> bool:
        """Whether a list asks for the brief representation (``?brief=true``: id, url and display only)."""
        raw = self.request.query_params.get("brief") if self.action == "list" else None
        try:
            return bool(TrueFalseField(required=False).clean(raw))
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"brief": list(error.messages)}) from None

    def brief_serializer_class(self) -> type[BaseSerializer[Any]]:
        return brief_serializer(self.get_queryset().model, f"api:{self.basename}-detail")

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[Any]:
        if self.brief():
            kwargs.setdefault("context", self.get_serializer_context())
            return self.brief_serializer_class()(*args, **kwargs)
        serializer: BaseSerializer[Any] = super().get_serializer(*args, **kwargs)
        return serializer

    def audit(self, action: str, target: Model, changes: dict[str, Any] | None = None, **kwargs: Any) -> None:
        audit.record(self.request.user, Via.API, action, target, changes=changes, **kwargs)

    def created(self, data: Any) -> Response:
        headers = {"Location": str(data["url"])} if isinstance(data, dict) and "url" in data else {}
        return Response(data, status=201, headers=headers)


class AuditedCrudViewSet(ApiViewSet):
    """List, read, create (with ``Idempotency-Key``), change and delete a plain model, auditing every write.

    The serializer's ``WRITABLE`` names the fields an audit event records. Answers to writes are the object as a
    GET would return it, read back through ``get_queryset()``.
    """

    idempotent_actions = ("create",)
    location_actions = ("create",)
    error_codes: ClassVar[dict[str, tuple[int, ...]]] = dict.fromkeys(
        ("create", "update", "partial_update", "destroy"), (409,)
    )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        return idempotent(request, lambda: self._create(request))

    def _create(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            instance = self.save_new(serializer)
        return self.created(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            self.save_changes(serializer)
        return Response(self.get_serializer(self.get_queryset().get(pk=instance.pk)).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        instance = self.get_object()
        with transaction.atomic():
            self.delete_object(instance)
        return Response(status=204)

    def writable(self, serializer: Any) -> builtins.list[str]:
        return builtins.list(serializer.WRITABLE)

    def save_new(self, serializer: Any) -> Model:
        instance: Model = serializer.save()
        self.audit("create", instance, changes=model_snapshot(instance, self.writable(serializer)))
        return instance

    def save_changes(self, serializer: Any) -> Model:
        before = model_snapshot(serializer.instance, self.writable(serializer))
        instance: Model = serializer.save()
        changes = audit.diff(before, model_snapshot(instance, self.writable(serializer)))
        if changes:
            self.audit("update", instance, changes=changes)
        return instance

    def delete_object(self, instance: Model) -> None:
        self.audit("delete", instance)
        instance.delete()
