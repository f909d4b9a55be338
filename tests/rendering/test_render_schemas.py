"""Every rendered object is valid for the Kubernetes versions providers run (strict: no unknown field).

The full matrix (Harbor minor x S3/Swift x provider/managed Redis x Trivy on/off x HA on/off) is rendered;
identical objects are validated once per Kubernetes version. cert-manager's Certificate has no schema in
kubernetes-validate, so it is checked against ``CERTIFICATE_SCHEMA``, written from the CRD's documented fields.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from provisioning.rendering import render_stack
from tests.rendering.specs import MANAGED_CACHE, PROVIDER_CACHE, S3, SWIFT, VERSIONS, build_spec

KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34")

_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
CERTIFICATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "cert-manager.io/v1"},
        "kind": {"const": "Certificate"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 253},
                "namespace": {"type": "string"},
                "labels": _STRING_MAP,
                "annotations": _STRING_MAP,
            },
        },
        "spec": {
            "type": "object",
            "required": ["secretName", "issuerRef"],
            "additionalProperties": False,
            "properties": {
                "secretName": {"type": "string", "minLength": 1},
                "commonName": {"type": "string", "maxLength": 64},
                "dnsNames": {"type": "array", "items": {"type": "string"}},
                "ipAddresses": {"type": "array", "items": {"type": "string"}},
                "uris": {"type": "array", "items": {"type": "string"}},
                "emailAddresses": {"type": "array", "items": {"type": "string"}},
                "duration": {"type": "string"},
                "renewBefore": {"type": "string"},
                "renewBeforePercentage": {"type": "integer"},
                "revisionHistoryLimit": {"type": "integer", "minimum": 1},
                "isCA": {"type": "boolean"},
                "usages": {
                    "type": "array",
                    "items": {
                        "enum": [
                            "signing",
                            "digital signature",
                            "content commitment",
                            "key encipherment",
                            "key agreement",
                            "data encipherment",
                            "cert sign",
                            "crl sign",
                            "encipher only",
                            "decipher only",
                            "any",
                            "server auth",
                            "client auth",
                            "code signing",
                            "email protection",
                            "s/mime",
                            "ipsec end system",
                            "ipsec tunnel",
                            "ipsec user",
                            "timestamping",
                            "ocsp signing",
                            "microsoft sgc",
                            "netscape sgc",
                        ]
                    },
                },
                "issuerRef": {
                    "type": "object",
                    "required": ["name"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "kind": {"type": "string"},
                        "group": {"type": "string"},
                    },
                },
                "privateKey": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "algorithm": {"enum": ["RSA", "ECDSA", "Ed25519"]},
                        "encoding": {"enum": ["PKCS1", "PKCS8"]},
                        "rotationPolicy": {"enum": ["Never", "Always"]},
                        "size": {"type": "integer"},
                    },
                },
                "secretTemplate": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"annotations": _STRING_MAP, "labels": _STRING_MAP},
                },
            },
        },
    },
}


def _matrix_objects(harbor_version: str) -> list[dict[str, Any]]:
    """Each distinct object of every stack variant of one Harbor version."""
    unique: dict[str, dict[str, Any]] = {}
    for storage, cache, trivy, ha in itertools.product(
        (S3, SWIFT), (PROVIDER_CACHE, MANAGED_CACHE), (True, False), (True, False)
    ):
        spec = build_spec(
            harbor_version=harbor_version, storage=storage, cache=cache, trivy_enabled=trivy, ha=ha
        )
        for obj in render_stack(spec):
            unique.setdefault(json.dumps(obj, sort_keys=True), obj)
    return list(unique.values())


@pytest.mark.parametrize("harbor_version", VERSIONS)
@pytest.mark.parametrize("kubernetes_version", KUBERNETES_VERSIONS)
def test_every_object_is_valid_for_kubernetes(harbor_version: str, kubernetes_version: str) -> None:
    errors = []
    for obj in _matrix_objects(harbor_version):
        if obj["kind"] == "Certificate":
            continue
        try:
            kubernetes_validate.validate(obj, kubernetes_version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {path}: {error.message}")
    assert errors == []


@pytest.mark.parametrize("harbor_version", VERSIONS)
def test_certificate_matches_the_cert_manager_schema(harbor_version: str) -> None:
    certificates = [obj for obj in _matrix_objects(harbor_version) if obj["kind"] == "Certificate"]
    assert certificates
    for certificate in certificates:
        jsonschema.Draft202012Validator(CERTIFICATE_SCHEMA).validate(certificate)


def test_certificate_schema_rejects_unknown_fields() -> None:
    certificate = next(obj for obj in render_stack(build_spec()) if obj["kind"] == "Certificate")
    certificate["spec"]["issuer"] = "letsencrypt"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(CERTIFICATE_SCHEMA).validate(certificate)


def test_strict_validation_catches_an_unknown_field() -> None:
    deployment = next(obj for obj in render_stack(build_spec()) if obj["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, "1.34", strict=True)
