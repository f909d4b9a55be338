"""Label and field selectors on lists."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

OBJECTS = {
    "core": {"app": "harbor", "component": "core", "tier": "1"},
    "portal": {"app": "harbor", "component": "portal", "tier": "2"},
    "trivy": {"app": "harbor", "component": "trivy"},
    "other": {"app": "other"},
}


@pytest.fixture
def labelled(core, namespace):
    for name, labels in OBJECTS.items():
        core.create_namespaced_config_map(
            namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels))
        )
    return namespace


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=harbor", ["core", "portal", "trivy"]),
        ("app==harbor,component!=core", ["portal", "trivy"]),
        ("component in (core, portal)", ["core", "portal"]),
        ("app=harbor,component notin (core,portal)", ["trivy"]),
        ("tier", ["core", "portal"]),
        ("!tier", ["other", "trivy"]),
        ("component!=core", ["other", "portal", "trivy"]),
        ("tier>1", ["portal"]),
        ("", ["core", "other", "portal", "trivy"]),
    ],
)
def test_label_selectors(core, labelled, selector, expected):
    found = core.list_namespaced_config_map(labelled, label_selector=selector)
    assert sorted(c.metadata.name for c in found.items) == expected


def test_field_selectors(core, labelled):
    by_name = core.list_namespaced_config_map(labelled, field_selector="metadata.name=portal")
    assert [c.metadata.name for c in by_name.items] == ["portal"]

    everywhere = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.namespace={labelled},metadata.name!=core", label_selector="app=harbor"
    )
    assert sorted(c.metadata.name for c in everywhere.items) == ["portal", "trivy"]


def test_bad_selectors_are_bad_requests(core, labelled):
    for kwargs in ({"label_selector": "app in ()"}, {"field_selector": "spec.replicas=3"}):
        with pytest.raises(ApiException) as caught:
            core.list_namespaced_config_map(labelled, **kwargs)
        assert caught.value.status == 400
