"""Immutable fields: the rule (``immutable_changes``) on each kind, and the matrix invariant that no ordinary edit
changes one unless it is listed in ``RECREATE_EDITS`` (which the engine carries out by orphan-delete and re-create).

Edits, from every point of the matrix: plan S↔M↔L, every allowed upgrade of the catalogue, Trivy on/off, HA on/off,
suspend/resume, cache mode provider↔managed, the cluster's storage class, the plan's Redis persistence size.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from functools import cache
from typing import Any

from provisioning.catalogue import upgrade_targets
from provisioning.rendering import RECREATE_EDITS, immutable_changes
from provisioning.rendering.immutable import recreate_policy
from provisioning.sizing import managed_cache
from tests.rendering.matrix import MATRIX, PLAN_NAMES, Point, matrix_objects, seeded_plan

Key = tuple[str, str]
RECREATE = {edit.edit: edit for edit in RECREATE_EDITS}


@cache
def _by_key(point: Point, variant: str = "") -> dict[Key, dict[str, Any]]:
    overrides: dict[str, Any] = {}
    if variant == "storage class":
        overrides["storage_class"] = "csi-cinder-classic"
    elif variant == "redis size":
        plan = copy.copy(seeded_plan(point[1]))
        plan.redis_persistence_gib = 2
        overrides["cache"] = managed_cache(plan, "Managed-Redis-Pass-9")
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in matrix_objects(point, **overrides)}


def _edits(point: Point) -> Iterator[tuple[str, Point, str, Point, str]]:
    """(edit, before, before variant, after, after variant) for every edit a user can make from ``point``."""
    version, plan, trivy, cache_mode, ha, suspended = point
    index = PLAN_NAMES.index(plan)
    for neighbour in PLAN_NAMES[max(0, index - 1) : index + 2]:
        if neighbour != plan:
            yield "plan change", point, "", (version, neighbour, trivy, cache_mode, ha, suspended), ""
    for target in upgrade_targets(version):
        yield "upgrade", point, "", (target, plan, trivy, cache_mode, ha, suspended), ""
    yield "trivy", point, "", (version, plan, not trivy, cache_mode, ha, suspended), ""
    yield "ha", point, "", (version, plan, trivy, cache_mode, not ha, suspended), ""
    yield "suspend/resume", point, "", (version, plan, trivy, cache_mode, ha, not suspended), ""
    other_cache = "managed" if cache_mode == "provider" else "provider"
    yield "cache mode", point, "", (version, plan, trivy, other_cache, ha, suspended), ""
    yield "the cluster's storage class", point, "", point, "storage class"
    if cache_mode == "managed":
        yield "the plan's managed Redis persistence size", point, "", point, "redis size"


def test_no_ordinary_edit_changes_an_immutable_field_unless_it_is_carried_out_by_recreate() -> None:
    seen: set[str] = set()
    for point in MATRIX:
        for edit, before_point, before_variant, after_point, after_variant in _edits(point):
            before, after = _by_key(before_point, before_variant), _by_key(after_point, after_variant)
            for key in before.keys() & after.keys():
                if before[key] == after[key]:
                    continue
                paths = immutable_changes(before[key], after[key])
                if not paths:
                    continue
                assert edit in RECREATE, f"{edit} changes {key} at {paths} ({point})"
                assert (key[0], tuple(paths)) == (RECREATE[edit].kind, RECREATE[edit].paths)
                assert recreate_policy(key[0], paths) == "Orphan"
                seen.add(edit)
    assert seen == set(RECREATE), "a listed edit no longer needs a re-create: take it off the list"


def test_selectors_and_claim_templates_do_not_depend_on_the_version_or_installation() -> None:
    before = _by_key(("2.13.0", "m", True, "managed", True, False))
    after = _by_key(("2.15.2", "m", True, "managed", True, False))
    for key, obj in before.items():
        if key[0] in ("Deployment", "StatefulSet"):
            assert obj["spec"]["selector"] == after[key]["spec"]["selector"]
            assert (
                obj["spec"]["template"]["metadata"]["labels"]
                != after[key]["spec"]["template"]["metadata"]["labels"]
            )
    trivy = before[("StatefulSet", "harbor-trivy")]
    assert (
        "harbor-console.io/installation" not in trivy["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]
    )
    assert "harbor-console.io/installation" not in trivy["spec"]["selector"]["matchLabels"]


STATEFULSET = {
    "kind": "StatefulSet",
    "metadata": {"name": "s", "namespace": "n"},
    "spec": {
        "replicas": 1,
        "serviceName": "s",
        "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}},
        "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "fast"}}],
    },
}


def _changed(obj: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(obj)
    *parents, last = path.split(".")
    target = result
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return result


def test_statefulset_spec_is_fixed_except_the_allowed_fields() -> None:
    assert immutable_changes(STATEFULSET, _changed(STATEFULSET, "spec.replicas", 3)) == []
    assert immutable_changes(STATEFULSET, _changed(STATEFULSET, "spec.template", {"x": 1})) == []
    assert (
        immutable_changes(STATEFULSET, _changed(STATEFULSET, "spec.updateStrategy", {"type": "OnDelete"}))
        == []
    )
    claims = _changed(STATEFULSET, "spec.volumeClaimTemplates", [])
    assert immutable_changes(STATEFULSET, claims) == ["spec.volumeClaimTemplates"]
    assert immutable_changes(STATEFULSET, _changed(STATEFULSET, "spec.serviceName", "t")) == [
        "spec.serviceName"
    ]
    policy = _changed(STATEFULSET, "spec.podManagementPolicy", "Parallel")
    assert immutable_changes(STATEFULSET, policy) == ["spec.podManagementPolicy"]
    assert recreate_policy("StatefulSet", ["spec.volumeClaimTemplates"]) == "Orphan"
    assert recreate_policy("StatefulSet", ["spec.selector"]) is None


def test_workload_selectors_jobs_services_claims_and_immutable_config() -> None:
    deployment = {
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "replicas": 1},
    }
    assert immutable_changes(deployment, _changed(deployment, "spec.replicas", 2)) == []
    assert immutable_changes(
        deployment, _changed(deployment, "spec.selector", {"matchLabels": {"a": "c"}})
    ) == ["spec.selector"]
    job = {
        "kind": "Job",
        "metadata": {"name": "j"},
        "spec": {"template": {"spec": {"containers": []}}, "ttlSecondsAfterFinished": 60},
    }
    assert immutable_changes(job, _changed(job, "spec.template.spec.containers", [{"name": "x"}])) == [
        "spec.template"
    ]
    assert immutable_changes(job, _changed(job, "spec.ttlSecondsAfterFinished", 10)) == []
    assert recreate_policy("Job", ["spec.template"]) == "Background"
    service = {"kind": "Service", "metadata": {"name": "s"}, "spec": {"clusterIP": "10.0.0.5", "ports": []}}
    assert immutable_changes(service, _changed(service, "spec.clusterIP", "10.0.0.6")) == ["spec.clusterIP"]
    assert immutable_changes({**service, "spec": {}}, service) == []  # unset before: the server chooses
    claim = {
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c"},
        "spec": {"storageClassName": "fast", "resources": {"requests": {"storage": "1Gi"}}},
    }
    assert immutable_changes(claim, _changed(claim, "spec.resources.requests.storage", "2Gi")) == []
    assert immutable_changes(claim, _changed(claim, "spec.resources.requests.storage", "512Mi")) == [
        "spec.resources.requests.storage"
    ]
    assert immutable_changes(claim, _changed(claim, "spec.storageClassName", "slow")) == [
        "spec.storageClassName"
    ]
    config = {"kind": "ConfigMap", "metadata": {"name": "m"}, "immutable": True, "data": {"a": "1"}}
    assert immutable_changes(config, {**config, "data": {"a": "2"}}) == ["data"]
    assert immutable_changes({**config, "immutable": False}, {**config, "data": {"a": "2"}}) == []
    renamed = replace_name(deployment, "e")
    assert immutable_changes(deployment, renamed) == ["metadata.name"]


def replace_name(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "name": name}}


def test_the_issues_two_edits_do_change_claim_templates() -> None:
    """The fault of issue #10 point 4, reproduced: these edits change ``volumeClaimTemplates`` (422 on a real
    server), so they must be carried out by re-create, not applied."""
    point: Point = ("2.15.2", "m", True, "managed", False, False)
    base = _by_key(point)
    storage = _by_key(point, "storage class")
    size = _by_key(point, "redis size")
    assert immutable_changes(
        base[("StatefulSet", "harbor-trivy")], storage[("StatefulSet", "harbor-trivy")]
    ) == ["spec.volumeClaimTemplates"]
    assert immutable_changes(
        base[("StatefulSet", "harbor-redis")], size[("StatefulSet", "harbor-redis")]
    ) == ["spec.volumeClaimTemplates"]
