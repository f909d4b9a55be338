"""List pages: a search box, a few filters and a sorted, paginated table; htmx requests get only the results.

The results are a live region (:mod:`provisioning.views.live`): they poll the list's address with the filters they
show (``results_url``) and are swapped only when they changed; a poll never changes the address in the browser's
history.

Filtering and search are the FilterSets of :mod:`provisioning.filtersets`, shared with the REST API, so a list
filters the same way in both. A filter with a wrong value is shown as an error next to it, never ignored silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django_filters import FilterSet

from provisioning.tables import Table
from provisioning.views.live import is_poll, live_response

RESULTS_TEMPLATE = "provisioning/includes/results.html"


class SingleSelectMultiple(forms.SelectMultiple):
    """A one-value drop-down for a filter that accepts several values (the API may still send several)."""

    allow_multiple_selected = False


def _ui_widgets(form: forms.Form, names: Sequence[str]) -> None:
    """Drop-downs and date pickers for people; labels without the API's hints such as "(slug)"."""
    for name in names:
        field = form.fields[name]
        if field.label:
            field.label = field.label.split(" (")[0]
        if isinstance(field, forms.MultipleChoiceField):
            choices: list[Any] = [("", "Any")]
            choices.extend(field.choices)  # type: ignore[arg-type]
            field.widget = SingleSelectMultiple(choices=choices)
        elif isinstance(field, forms.ModelChoiceField):
            field.empty_label = "Any"
        elif field.__class__.__name__ == "IsoDateTimeField":
            field.widget = forms.DateTimeInput(attrs={"type": "datetime-local"})


def render_list(
    request: HttpRequest,
    template: str,
    *,
    queryset: QuerySet[Any],
    table_class: type[Table],
    filterset_class: type[FilterSet],
    filters: Sequence[str] = (),
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Render a list page, or for an htmx request aimed at ``#results`` only its results, with one page."""
    filterset = filterset_class(request.GET, queryset=queryset)
    _ui_widgets(filterset.form, filters)
    valid = filterset.is_valid()
    table = table_class(filterset.qs if valid else queryset.none(), request)
    page_context = {
        "table": table,
        "search_field": filterset.form["search"] if "search" in filterset.form.fields else None,
        "filter_fields": [filterset.form[name] for name in filters],
        "filter_errors": filterset.form.errors,
        "filtered": any(request.GET.get(name) for name in ("search", *filters)),
        "results_url": shareable_url(request),
        **(context or {}),
    }
    htmx = getattr(request, "htmx", None)
    partial = (
        htmx is not None and bool(htmx) and not htmx.history_restore_request and htmx.target == "results"
    )
    response = render(request, RESULTS_TEMPLATE if partial else template, page_context)
    if partial and not is_poll(request):
        response["HX-Push-Url"] = shareable_url(request)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return live_response(request, response)


def shareable_url(request: HttpRequest) -> str:
    """The list's address with only the parameters that say something (a form also sends its empty fields)."""
    params = QueryDict(mutable=True)
    for name, values in request.GET.lists():
        kept = [value for value in values if value != ""]
        if kept:
            params.setlist(name, kept)
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path
