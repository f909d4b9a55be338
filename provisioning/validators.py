"""Validators for Kubernetes names, labels, tolerations, CIDRs and DNS host names: one set for forms, API and models."""

from __future__ import annotations

import ipaddress
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


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
TOLERATION_KEYS = {"key", "operator", "value", "effect", "tolerationSeconds"}
TOLERATION_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}
MAX_TOLERATIONS = 50
MAX_CIDRS = 100


def validate_object_name(value: str) -> None:
    """A DNS-1123 subdomain: the name of a cluster-scoped object (IngressClass, StorageClass, ClusterIssuer)."""
    if len(value) > 253 or not _DNS_SUBDOMAIN.match(value):
        raise ValidationError(
            "%(value)r is not a Kubernetes object name: use lower-case letters, digits, '-' and '.', "
            "starting and ending with a letter or digit.",
            code="invalid_object_name",
            params={"value": value[:60]},
        )


def label_key_problem(key: str) -> str | None:
    """What is wrong with a label key (``[prefix/]name``), or None."""
    prefix, _, name = key.rpartition("/")
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return f"{key[:60]!r} is not a label key: a name of at most 63 letters, digits, '-', '_' and '.'."
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"{key[:60]!r} is not a label key: its prefix must be a DNS subdomain such as example.com."
    return None


def label_value_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return f"{value!r} is not a label value: give a string."
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return f"{value[:60]!r} is not a label value: at most 63 letters, digits, '-', '_' and '.'."
    return None


def validate_label_keys(value: dict[str, object]) -> None:
    problems = [problem for key in value if (problem := label_key_problem(str(key)))]
    if problems:
        raise ValidationError(problems[0], code="invalid_label_key")


def validate_node_selector(value: object) -> None:
    """A JSON object of label key → label value, as a pod's ``nodeSelector``."""
    if not isinstance(value, dict):
        raise ValidationError("Give a JSON object of label: value.", code="invalid_node_selector")
    for key, label in value.items():
        problem = label_key_problem(str(key)) or label_value_problem(label)
        if problem:
            raise ValidationError(problem, code="invalid_node_selector")


def toleration_problem(item: object) -> str | None:
    """What is wrong with one Kubernetes toleration, or None."""
    if not isinstance(item, dict):
        return 'Each toleration is a JSON object such as {"key": "dedicated", "operator": "Exists"}.'
    unknown = sorted(set(item) - TOLERATION_KEYS)
    if unknown:
        return f"A toleration has no field {unknown[0]!r}: use {', '.join(sorted(TOLERATION_KEYS))}."
    operator = item.get("operator", "Equal")
    if operator not in ("Exists", "Equal"):
        return f"A toleration's operator is Exists or Equal, not {operator!r}."
    key = item.get("key", "")
    if not isinstance(key, str) or (key and label_key_problem(key)):
        return label_key_problem(str(key)) or "A toleration's key is a string."
    if not key and operator != "Exists":
        return "A toleration without a key must use the operator Exists."
    value = item.get("value", "")
    if operator == "Exists" and value:
        return "A toleration with the operator Exists takes no value."
    if problem := label_value_problem(value):
        return f"A toleration's value: {problem}"
    if item.get("effect", "") not in TOLERATION_EFFECTS:
        return f"A toleration's effect is one of NoSchedule, PreferNoSchedule, NoExecute, not {item['effect']!r}."
    seconds = item.get("tolerationSeconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0):
        return "A toleration's tolerationSeconds is a whole number of seconds, 0 or more."
    if seconds is not None and item.get("effect") != "NoExecute":
        return "tolerationSeconds applies only to the effect NoExecute."
    return None


def validate_tolerations(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("Give a JSON list of Kubernetes tolerations.", code="invalid_tolerations")
    if len(value) > MAX_TOLERATIONS:
        raise ValidationError(f"Give at most {MAX_TOLERATIONS} tolerations.", code="invalid_tolerations")
    for position, item in enumerate(value, start=1):
        if problem := toleration_problem(item):
            raise ValidationError(f"Toleration {position}: {problem}", code="invalid_tolerations")


def validate_cidr(value: object) -> None:
    if not isinstance(value, str):
        raise ValidationError('Give each CIDR as a string such as "10.0.0.0/8".', code="invalid_cidr")
    try:
        ipaddress.ip_network(value)
    except ValueError:
        raise ValidationError(
            "%(value)r is not a CIDR such as 10.0.0.0/8 (with the host bits zero, as NetworkPolicies want it).",
            code="invalid_cidr",
            params={"value": value[:60]},
        ) from None


def validate_cidrs(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("Give a JSON list of CIDR strings.", code="invalid_cidrs")
    if len(value) > MAX_CIDRS:
        raise ValidationError(f"Give at most {MAX_CIDRS} CIDRs.", code="invalid_cidrs")
    for item in value:
        validate_cidr(item)


def validate_ports(value: object) -> None:
    """A non-empty JSON list of TCP/UDP port numbers."""
    if not isinstance(value, list) or not value:
        raise ValidationError("Give a JSON list of ports, e.g. [443].", code="invalid_ports")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 0 < item < 65536:
            raise ValidationError(
                "%(value)r is not a port between 1 and 65535.", code="invalid_ports", params={"value": item}
            )


_QUEUE_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.:]*$")


def validate_queue_name(value: str) -> None:
    """A Celery queue name a worker can be started with (``celery worker -Q name``)."""
    if len(value) > 63 or not _QUEUE_NAME.match(value):
        raise ValidationError(
            "%(value)r is not a queue name: use letters, digits, '-', '_', '.' and ':', starting with a letter "
            "or digit.",
            code="invalid_queue",
            params={"value": value[:60]},
        )


def validate_quantity(value: str) -> None:
    """A Kubernetes quantity above zero (``64``, ``500m``, ``256Gi``)."""
    from provisioning.rendering.quantities import quantity

    try:
        amount = quantity(value)
    except ValueError as error:
        raise ValidationError(str(error), code="invalid_quantity") from error
    if amount <= 0:
        raise ValidationError(
            f"{value!r} is not above zero: give the amount, or leave it empty.", code="invalid_quantity"
        )
