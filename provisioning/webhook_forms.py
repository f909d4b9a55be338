"""The web form of a webhook subscription: the same rules as the API (URL checks, event types, secret)."""

from __future__ import annotations

from typing import Any

from django import forms

from provisioning.events import addresses, types
from provisioning.models import WebhookSubscription

SECRET_MIN_LENGTH = 16


class WebhookForm(forms.ModelForm):
    secret = forms.CharField(
        widget=forms.PasswordInput(render_value=False),
        min_length=SECRET_MIN_LENGTH,
        max_length=200,
        strip=False,
        required=False,
        help_text="Signs every delivery (HMAC-SHA256); never shown again. Leave empty to keep the current one.",
    )
    event_types = forms.MultipleChoiceField(
        choices=[(name, name.removeprefix(types.PREFIX)) for name in types.FULL_NAMES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every type.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["name", "target_url", "secret", "event_types", "active"]
        labels = {"target_url": "Receiver URL"}
        field_classes = {"target_url": forms.CharField}  # checked by addresses.check_url (http(s) only)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            self.fields["secret"].required = True
            self.fields["secret"].help_text = "Signs every delivery (HMAC-SHA256); never shown again."

    def clean_target_url(self) -> str:
        value = str(self.cleaned_data["target_url"])
        try:
            addresses.check_url(value)
        except addresses.UrlRefused as refused:
            raise forms.ValidationError(str(refused)) from refused
        return value

    def clean_secret(self) -> str:
        value = str(self.cleaned_data.get("secret") or "")
        return value or (self.instance.secret if self.instance.pk else "")

    def clean_event_types(self) -> list[str]:
        return sorted(set(self.cleaned_data.get("event_types") or []))
