"""The query-string parameters of monitoring pages and API, validated the same way for both."""

from __future__ import annotations

from django import forms

from monitoring import queries
from monitoring.business import CONSUMER_SORTS
from monitoring.fleet import SORT_CHOICES, FleetFilter
from monitoring.ranges import (
    BUSINESS_PERIODS,
    CHART_PERIODS,
    DEFAULT_BUSINESS_PERIOD,
    DEFAULT_CHART_PERIOD,
    Period,
)
from provisioning.health import Health


class FleetFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    health = forms.ChoiceField(
        required=False, choices=[("", "Any health"), *((h.value, h.value) for h in Health)]
    )
    plan = forms.CharField(required=False, max_length=63)
    version = forms.CharField(required=False, max_length=16)
    cluster = forms.CharField(required=False, max_length=63)
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in SORT_CHOICES])
    page = forms.IntegerField(required=False, min_value=1)

    def to_filter(self) -> FleetFilter:
        """The filter the form asks for; fields with invalid values fall back to their defaults."""
        self.is_valid()
        data = self.cleaned_data  # holds only the fields that are valid
        return FleetFilter(
            q=(data.get("q") or "").strip(),
            health=data.get("health") or "",
            plan=data.get("plan") or "",
            version=data.get("version") or "",
            cluster=data.get("cluster") or "",
            sort=data.get("sort") or "health",
            page=data.get("page") or 1,
        )


class PeriodForm(forms.Form):
    range = forms.ChoiceField(required=False, choices=[(k, p.label) for k, p in CHART_PERIODS.items()])

    def chosen_period(self) -> Period:
        self.is_valid()
        return CHART_PERIODS[self.cleaned_data.get("range") or DEFAULT_CHART_PERIOD]


class SeriesForm(PeriodForm):
    query = forms.MultipleChoiceField(choices=[(q.key, q.title) for q in queries.CATALOGUE])

    def clean_query(self) -> list[str]:
        chosen: list[str] = self.cleaned_data["query"]
        if len(chosen) > 10:
            raise forms.ValidationError("Ask for at most 10 queries at once.")
        return chosen


class BusinessForm(forms.Form):
    range = forms.ChoiceField(required=False, choices=[(k, p.label) for k, p in BUSINESS_PERIODS.items()])
    sort = forms.ChoiceField(required=False, choices=[(s, s) for s in CONSUMER_SORTS])

    def chosen_period(self) -> Period:
        self.is_valid()
        return BUSINESS_PERIODS[self.cleaned_data.get("range") or DEFAULT_BUSINESS_PERIOD]

    def chosen_sort(self) -> str:
        self.is_valid()
        return self.cleaned_data.get("sort") or "storage"
