"""Unknown query parameters are refused: a typo (``?tenat=x``) must never widen a request to the whole fleet.

Each API view names the query parameters it takes; any other one is a 400 naming it. ``format`` (DRF's choice of
renderer) is taken everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import exceptions

ALWAYS_TAKEN = frozenset({"format"})


def refuse_unknown(request: Any, taken: Iterable[str]) -> None:
    """Raise a 400 naming every query parameter of ``request`` outside ``taken``."""
    allowed = ALWAYS_TAKEN | set(taken)
    unknown = sorted(name for name in request.query_params if name not in allowed)
    if unknown:
        known = ", ".join(sorted(allowed - ALWAYS_TAKEN)) or "none"
        raise exceptions.ValidationError(
            {
                name: [
                    f"Unknown query parameter {name!r}: check its spelling (this endpoint takes: {known})."
                ]
                for name in unknown
            }
        )


def view_parameters(view: Any) -> set[str]:
    """The query parameters a viewset takes for its current action: on a list its filters, ordering, paging and
    ``brief``, plus the viewset's own ``query_parameters`` (a dict of action to names)."""
    action = getattr(view, "action", None) or ""
    names = set(getattr(view, "query_parameters", {}).get(action, ()))
    if action != "list":
        return names
    names.add("brief")
    filterset = getattr(view, "filterset_class", None)
    if filterset is not None and view.filter_backends:
        names |= set(filterset.base_filters)
    if getattr(view, "ordering_fields", None):
        names |= {p for backend in view.filter_backends if (p := getattr(backend, "ordering_param", None))}
    paginator = view.paginator
    if paginator is not None:
        names |= {paginator.limit_query_param, paginator.offset_query_param}
    return names
