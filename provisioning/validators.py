"""Validators for Kubernetes names and DNS host names."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_dns_label(value: str) -> None:
    """A DNS-1123 label: what Kubernetes accepts as a namespace or object-name part."""
    if len(value) > 63 or not _DNS_LABEL.match(value):
        raise ValidationError(
            "%(value)r is not a valid name: use at most 63 lower-case letters, digits and '-', "
            "starting and ending with a letter or digit.",
            code="invalid_dns_label",
            params={"value": value},
        )


def validate_hostname(value: str) -> None:
    """A fully qualified host name in lower case, at least two labels, no scheme, port or path."""
    labels = value.split(".")
    valid = (
        len(value) <= 253
        and len(labels) >= 2
        and all(_HOST_LABEL.match(label) for label in labels)
        and not labels[-1].isdigit()
    )
    if not valid:
        raise ValidationError(
            "%(value)r is not a valid host name: use a fully qualified lower-case name such as "
            "registry.example.com, without scheme, port or path.",
            code="invalid_hostname",
            params={"value": value},
        )
