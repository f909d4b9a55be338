"""Rendering a stack mid-upgrade: what has not moved keeps its version, the migration Job fits the quota."""

from __future__ import annotations

from provisioning.rendering import render_stack
from provisioning.rendering.requirements import millicores, pod_requirements
from provisioning.rendering.upgrade import UpgradeStage, render_migration_job, render_upgrade_stack
from tests.rendering.specs import build_spec

COMPONENT = "app.kubernetes.io/component"


def images(objects) -> dict[str, str]:
    return {
        obj["metadata"]["labels"][COMPONENT]: obj["spec"]["template"]["spec"]["containers"][0]["image"]
        for obj in objects
        if obj["kind"] in ("Deployment", "StatefulSet")
    }


def by_kind(objects, kind):
    return [obj for obj in objects if obj["kind"] == kind]


def test_only_rolled_components_run_the_new_version():
    spec = build_spec(harbor_version="2.15.2")
    staged = render_upgrade_stack(spec, UpgradeStage("2.14.4", frozenset({"core", "jobservice"})))
    running = images(staged)
    assert running["core"].endswith(":v2.15.2") and running["jobservice"].endswith(":v2.15.2")
    assert running["portal"].endswith(":v2.14.4") and running["registry"].endswith(":v2.14.4")
    assert running["exporter"].endswith(":v2.14.4")
    # Every object of a component not yet rolled is exactly what 2.14.4 renders.
    old = {(o["kind"], o["metadata"]["name"]): o for o in render_stack(build_spec(harbor_version="2.14.4"))}
    for obj in staged:
        if obj["metadata"]["labels"].get(COMPONENT) == "portal":
            assert obj == old[(obj["kind"], obj["metadata"]["name"])]


def test_everything_rolled_is_the_plain_stack():
    spec = build_spec(harbor_version="2.15.2")
    everything = frozenset({"core", "jobservice", "registry", "portal", "trivy", "exporter"})
    assert render_upgrade_stack(spec, UpgradeStage("2.14.4", everything)) == render_stack(spec)


def test_while_the_migration_may_run_the_quota_has_room_for_its_pod_and_a_policy_lets_it_reach_the_database_only():
    spec = build_spec(harbor_version="2.15.2")
    plain = render_upgrade_stack(spec, UpgradeStage("2.14.4"))
    migrating = render_upgrade_stack(spec, UpgradeStage("2.14.4", migration=True))
    job = render_migration_job(spec)
    (quota_before,) = by_kind(plain, "ResourceQuota")
    (quota_during,) = by_kind(migrating, "ResourceQuota")
    needed = pod_requirements(job["spec"]["template"]["spec"])
    assert needed.cpu_limits > 0
    assert (
        millicores(quota_during["spec"]["hard"]["limits.cpu"])
        == millicores(quota_before["spec"]["hard"]["limits.cpu"]) + needed.cpu_limits
    )
    assert int(quota_during["spec"]["hard"]["pods"]) == int(quota_before["spec"]["hard"]["pods"]) + 1
    (policy,) = [
        p for p in by_kind(migrating, "NetworkPolicy") if p["metadata"]["name"].endswith("-migration")
    ]
    assert policy["spec"]["podSelector"]["matchLabels"][COMPONENT] == "migration"
    assert policy["spec"]["ingress"] == []
    (egress,) = policy["spec"]["egress"]
    assert egress["ports"] == [{"protocol": "TCP", "port": spec.database.port}]
    assert not [p for p in by_kind(plain, "NetworkPolicy") if p["metadata"]["name"].endswith("-migration")]


def test_the_migration_job_is_never_selected_by_cores_service_or_deployment():
    spec = build_spec(harbor_version="2.15.2")
    job = render_migration_job(spec)
    labels = job["spec"]["template"]["metadata"]["labels"]
    for obj in render_stack(spec):
        selector = (obj.get("spec") or {}).get("selector") or {}
        selector = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
        if obj["kind"] in ("Service", "Deployment", "StatefulSet") and selector:
            assert not all(labels.get(k) == v for k, v in selector.items()), obj["metadata"]["name"]
    assert job["spec"]["backoffLimit"] == 2 and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
