"""The stack as a whole: labels, names, apply order, optional parts, determinism, rollout checksums."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provisioning.rendering import (
    COMPONENT_LABEL,
    INSTALLATION_LABEL,
    INSTANCE_LABEL,
    MANAGED_BY_LABEL,
    NAME_LABEL,
    REGISTRY_ID_LABEL,
    RENDERED_KINDS,
    VERSION_LABEL,
    DatabaseSpec,
    apply_order,
    legacy_ownership_selector,
    object_apply_order,
    ownership_selector,
    render_stack,
    render_yaml,
)
from tests.rendering.specs import MANAGED_CACHE, SECRETS, SWIFT, build_spec

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def _names(objects: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(obj["kind"], obj["metadata"]["name"]) for obj in objects]


def _find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name)


def _full_stack() -> list[dict[str, Any]]:
    return render_stack(build_spec(cache=MANAGED_CACHE, ha=True))


def test_every_object_carries_the_ownership_labels() -> None:
    for obj in _full_stack():
        labels = obj["metadata"]["labels"]
        assert labels[NAME_LABEL] == "harbor"
        assert labels[INSTANCE_LABEL] == "harbor"
        assert labels[COMPONENT_LABEL]
        assert labels[VERSION_LABEL] == "2.14.4"
        assert labels[MANAGED_BY_LABEL] == "harbor-console"
        assert labels[REGISTRY_ID_LABEL] == "42"
        assert labels[INSTALLATION_LABEL] == "hctest01"
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "tenant-acme"
        if obj["kind"] in WORKLOAD_KINDS:
            template_labels = obj["spec"]["template"]["metadata"]["labels"]
            assert template_labels[REGISTRY_ID_LABEL] == "42"
            assert obj["spec"]["selector"]["matchLabels"].items() <= template_labels.items()
            assert VERSION_LABEL not in obj["spec"]["selector"]["matchLabels"]
            assert INSTALLATION_LABEL not in obj["spec"]["selector"]["matchLabels"]


def test_ownership_selector_matches_the_labels_of_one_installation_only() -> None:
    assert ownership_selector(42, "hctest01") == (
        "app.kubernetes.io/managed-by=harbor-console,harbor-console.io/installation=hctest01,"
        "harbor-console.io/registry-id=42"
    )
    wanted = dict(item.split("=") for item in ownership_selector(42, "hctest01").split(","))
    assert all(wanted.items() <= obj["metadata"]["labels"].items() for obj in _full_stack())
    other = dict(item.split("=") for item in ownership_selector(42, "otherconsole").split(","))
    assert not any(other.items() <= obj["metadata"]["labels"].items() for obj in _full_stack())
    assert legacy_ownership_selector(42) == (
        "app.kubernetes.io/managed-by=harbor-console,harbor-console.io/registry-id=42,!harbor-console.io/installation"
    )


def test_names_are_unique_and_deterministic() -> None:
    names = _names(_full_stack())
    assert len(names) == len(set(names))
    assert ("Service", "harbor-core") in names
    assert ("Service", "harbor-registry") in names
    ports = [port["port"] for port in _find(_full_stack(), "Service", "harbor-registry")["spec"]["ports"]]
    assert ports == [5000, 8080, 8001]


def test_objects_come_in_apply_order() -> None:
    objects = _full_stack()
    ranks = [object_apply_order(obj) for obj in objects]
    assert ranks == sorted(ranks)
    kinds = [obj["kind"] for obj in objects]
    assert kinds[0] == "Namespace"
    assert kinds[-2:] == ["Ingress", "Certificate"]
    order = _names(objects)
    assert order.index(("Secret", "harbor-core")) < order.index(("StatefulSet", "harbor-redis"))
    assert order.index(("StatefulSet", "harbor-redis")) < order.index(("Deployment", "harbor-core"))
    assert order.index(("Deployment", "harbor-core")) < order.index(("Deployment", "harbor-jobservice"))
    assert order.index(("Deployment", "harbor-portal")) < order.index(("Ingress", "harbor"))
    assert {(obj["apiVersion"], obj["kind"]) for obj in objects} == set(RENDERED_KINDS)


def test_apply_order_refuses_unknown_kinds() -> None:
    assert apply_order("Namespace") < apply_order("Secret") < apply_order("Deployment", "core")
    with pytest.raises(ValueError, match="not rendered"):
        apply_order("CronJob")


def test_trivy_off_leaves_no_trivy_object() -> None:
    objects = render_stack(build_spec(trivy_enabled=False, ha=True))
    assert [obj for obj in objects if obj["metadata"]["labels"][COMPONENT_LABEL] == "trivy"] == []
    assert _find(objects, "ConfigMap", "harbor-core-env")["data"]["WITH_TRIVY"] == "false"
    with_trivy = render_stack(build_spec(trivy_enabled=True))
    trivy = {name for name in _names(with_trivy) if name[1] == "harbor-trivy"}
    assert trivy == {
        ("Secret", "harbor-trivy"),
        ("StatefulSet", "harbor-trivy"),
        ("Service", "harbor-trivy"),
        ("NetworkPolicy", "harbor-trivy"),
    }


def test_trivy_statefulset_caches_on_its_data_claim() -> None:
    trivy = _find(render_stack(build_spec()), "StatefulSet", "harbor-trivy")
    claim = trivy["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["storageClassName"] == "csi-cinder-high-speed"
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert VERSION_LABEL not in claim["metadata"]["labels"]
    mounts = trivy["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "data", "mountPath": "/home/scanner/.cache", "readOnly": False} in mounts


def test_ha_adds_disruption_budgets_and_spread() -> None:
    ha = render_stack(build_spec(ha=True))
    budgets = [obj for obj in ha if obj["kind"] == "PodDisruptionBudget"]
    assert sorted(obj["metadata"]["name"] for obj in budgets) == [
        f"harbor-{name}" for name in sorted(("core", "portal", "registry", "jobservice", "trivy", "exporter"))
    ]
    for obj in ha:
        if obj["kind"] in WORKLOAD_KINDS:
            assert obj["spec"]["template"]["spec"]["topologySpreadConstraints"]
    single = render_stack(build_spec(ha=False))
    assert [obj for obj in single if obj["kind"] == "PodDisruptionBudget"] == []
    assert all(
        "topologySpreadConstraints" not in obj["spec"]["template"]["spec"]
        for obj in single
        if obj["kind"] in WORKLOAD_KINDS
    )


def test_managed_redis_objects_only_when_managed() -> None:
    managed = {
        name for name in _names(render_stack(build_spec(cache=MANAGED_CACHE))) if name[1] == "harbor-redis"
    }
    assert managed == {
        ("Secret", "harbor-redis"),
        ("NetworkPolicy", "harbor-redis"),
        ("Service", "harbor-redis"),
        ("StatefulSet", "harbor-redis"),
    }
    assert not [name for name in _names(render_stack(build_spec())) if name[1] == "harbor-redis"]


def test_same_input_gives_byte_identical_yaml() -> None:
    first = render_yaml(render_stack(build_spec(storage=SWIFT, cache=MANAGED_CACHE, ha=True)))
    second = render_yaml(render_stack(build_spec(storage=SWIFT, cache=MANAGED_CACHE, ha=True)))
    assert first == second
    reordered = build_spec(node_selector={"b": "2", "a": "1"})
    assert render_yaml(render_stack(reordered)) == render_yaml(
        render_stack(build_spec(node_selector={"a": "1", "b": "2"}))
    )


def _checksums(objects: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {
        obj["metadata"]["name"]: obj["spec"]["template"]["metadata"]["annotations"]
        for obj in objects
        if obj["kind"] in WORKLOAD_KINDS
    }


def test_pods_carry_a_checksum_of_every_config_they_use() -> None:
    objects = _full_stack()
    annotations = _checksums(objects)
    assert set(annotations["harbor-core"]) == {
        "checksum/configmap-core",
        "checksum/configmap-core-env",
        "checksum/secret-core",
        "checksum/secret-core-keys",
        "checksum/secret-jobservice",
    }
    assert set(annotations["harbor-registry"]) == {
        "checksum/configmap-registry",
        "checksum/secret-registry",
        "checksum/secret-registry-htpasswd",
        "checksum/secret-core",
        "checksum/secret-jobservice",
    }
    assert set(annotations["harbor-portal"]) == {"checksum/configmap-portal"}
    assert set(annotations["harbor-redis"]) == {"checksum/secret-redis"}


def test_a_config_change_rolls_exactly_the_pods_that_use_it() -> None:
    before = _checksums(render_stack(build_spec()))
    database = DatabaseSpec(host="pg-other.db.example", username="acme", password="Db-Pass-Value-7")
    after = _checksums(render_stack(build_spec(database=database)))
    assert before["harbor-core"] != after["harbor-core"]
    assert before["harbor-exporter"] != after["harbor-exporter"]
    assert before["harbor-portal"] == after["harbor-portal"]
    assert before["harbor-registry"] == after["harbor-registry"]


def test_a_secret_rotation_rolls_the_pods_that_read_it() -> None:
    before = _checksums(render_stack(build_spec()))
    rotated = replace(SECRETS, core_secret="RotatedSecret016")
    after = _checksums(render_stack(build_spec(secrets=rotated)))
    for name in ("harbor-core", "harbor-jobservice", "harbor-registry"):
        assert before[name] != after[name]
    assert before["harbor-portal"] == after["harbor-portal"]
    assert before["harbor-trivy"] == after["harbor-trivy"]


def test_rendering_does_not_mutate_between_calls() -> None:
    spec = build_spec()
    first = render_stack(spec)
    first[0]["metadata"]["labels"]["tampered"] = "yes"
    assert "tampered" not in render_stack(spec)[0]["metadata"]["labels"]


def test_no_part_of_an_object_is_shared() -> None:
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict | list):
            assert id(value) not in seen
            seen.add(id(value))
            for item in value.values() if isinstance(value, dict) else value:
                walk(item)

    objects = render_stack(build_spec(cache=MANAGED_CACHE, ha=True))
    walk(objects)
    assert "&id" not in render_yaml(objects)


def test_yaml_reads_back_to_the_objects() -> None:
    import yaml

    objects = _full_stack()
    assert list(yaml.safe_load_all(render_yaml(objects))) == objects


TRICKY_STRINGS = [
    "",
    "yes",
    "NO",
    "on",
    "y",
    "null",
    "~",
    "true",
    "0x1F",
    "1e5",
    "-1",
    ".inf",
    "2.14.4",
    "0755",
    "a: b",
    "a #b",
    "#x",
    "@at",
    "*star",
    "&amp",
    "!bang",
    "%pct",
    "|pipe",
    ">gt",
    "'q",
    '"dq',
    "-dash",
    "? q",
    "key:",
    "[a]",
    "{b}",
    "  lead",
    "trail ",
    "tab\tin",
    "ünïcödé",
    "back\\slash",
    "multi\nline\n",
    "multi\n\nlines\n\n",
    "no newline\nat end",
    "line\n  indented\n",
    "\ttab first\n",
    "ends with space \nx",
    "\nleading newline",
    "---\n...\n",
    "cr\r\nlf",
    "nul\x00",
    "nel\x85x",
    "ls\u2028x",
    "multi\nwith\u2029ps\n",
]


@pytest.mark.parametrize("text", TRICKY_STRINGS)
def test_yaml_keeps_every_string_exactly(text: str) -> None:
    import yaml

    document = {"data": {"value": text, text or "empty": [text, {"nested": text}]}, "list": [[text]]}
    assert yaml.safe_load(render_yaml([document])) == document
