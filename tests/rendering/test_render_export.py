"""Exports: Helm values without any secret, and spec validation that fails before rendering."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provisioning.rendering import REDACTED, CacheSpec, StorageSpec, render_helm_values
from tests.rendering.specs import MANAGED_CACHE, SECRETS, SWIFT, build_spec, secret_values


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (str(key), *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return [str(value)]


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"storage": SWIFT, "cache": MANAGED_CACHE},
        {"cache": CacheSpec(mode="provider", host="r", password="x#y")},
    ],
)
def test_helm_values_hold_no_secret(overrides: dict[str, Any]) -> None:
    spec = build_spec(**overrides)
    strings = _strings(render_helm_values(spec))
    for value in secret_values(spec):
        assert not any(value in text for text in strings), value


def test_helm_values_shape() -> None:
    values = render_helm_values(build_spec())
    assert values["externalURL"] == "https://acme.registry.example.com"
    assert values["expose"]["ingress"]["hosts"]["core"] == "acme.registry.example.com"
    assert values["database"]["type"] == "external"
    assert values["database"]["external"]["password"] == REDACTED
    assert values["redis"]["external"]["registryDatabaseIndex"] == "2"
    assert values["redis"]["external"]["password"] == REDACTED
    assert values["persistence"]["imageChartStorage"]["type"] == "s3"
    assert values["persistence"]["imageChartStorage"]["s3"]["secretkey"] == REDACTED
    assert values["core"]["replicas"] == 2
    assert values["core"]["image"] == {"repository": "docker.io/goharbor/harbor-core", "tag": "v2.14.4"}
    assert values["registry"]["credentials"]["password"] == REDACTED
    assert values["harborAdminPassword"] == REDACTED
    assert values["trivy"]["enabled"] is True


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"instance": "Harbor"}, "DNS-1035"),
        ({"namespace": "tenant_acme"}, "not a DNS label"),
        ({"external_url": "http://acme.registry.example.com"}, "external_url must be https://"),
        ({"egress_cidrs": ("10.0.0.0/33",)}, "not a network"),
        ({"log_level": "verbose"}, "log_level"),
        ({"trivy_storage": "5 gigabytes"}, "not a Kubernetes quantity"),
    ],
)
def test_invalid_specs_are_refused_with_a_reason(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_spec(**overrides)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("core_secret", "short", "core_secret must be 16"),
        ("csrf_key", "short", "csrf_key must be 32"),
        ("secret_key", "short", "secret_key .* must be 16"),
        ("registry_htpasswd", "admin:plain", "bcrypt htpasswd line"),
    ],
)
def test_invalid_secrets_are_refused(field: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SECRETS, **{field: value})


def test_invalid_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="s3 storage needs bucket"):
        StorageSpec(kind="s3", region="gra", access_key="a", secret_key="b")
    with pytest.raises(ValueError, match="Sentinel over TLS"):
        CacheSpec(mode="provider", host="r", password="p", tls=True, sentinel_master="m")
    with pytest.raises(ValueError, match="ACL user name"):
        CacheSpec(mode="managed", password="p", username="bad user")
