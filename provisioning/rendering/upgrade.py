"""A stack in the middle of an upgrade: Harbor's schema migration Job, and components rolled one after another.

Harbor core migrates its database schema when started with ``-mode=migrate`` (HARBOR.md; the chart runs it as a
pre-upgrade Job). An upgrade here runs that Job once, before the new core starts, then moves the components to the
new version in ``ROLL_ORDER``: core first (the schema's owner, whose API the others call), then jobservice,
registry (with registryctl), portal, trivy and the exporter. Until its turn a component keeps every object of the
version it runs (``previous_version``); what belongs to no component (namespace, quota, policies, ingress) is the
new version's. The Job's pod is counted in the quota while it may run, and gets a NetworkPolicy of its own: DNS and
the database, nothing else. It is labelled ``migration``, so no Service or Deployment of core ever selects it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from provisioning.rendering.labels import COMPONENT_LABEL, pod_labels, selector_labels
from provisioning.rendering.names import CORE, EXPORTER, JOBSERVICE, PORTAL, REGISTRY, TRIVY, object_name
from provisioning.rendering.network import _policy, _ports, endpoint_cidrs, external_endpoints
from provisioning.rendering.objects import Object, metadata
from provisioning.rendering.pods import (
    config_map_volume,
    container,
    mount,
    pod_security_context,
)
from provisioning.rendering.quota import render_limitrange, render_resourcequota
from provisioning.rendering.requirements import required_quota
from provisioning.rendering.spec import StackSpec
from provisioning.rendering.stack import POD_KINDS, object_apply_order, render_stack

MIGRATION = "migration"
ROLL_ORDER: tuple[str, ...] = (CORE, JOBSERVICE, REGISTRY, PORTAL, TRIVY, EXPORTER)
"""The order components move to the new version, after the schema migration."""
MIGRATE_COMMAND = ("/harbor/harbor_core", "-mode=migrate")
JOB_BACKOFF_LIMIT = 2
JOB_DEADLINE_SECONDS = 1800


@dataclass(frozen=True)
class UpgradeStage:
    """Where an upgrade stands: the version components left behind still run, which have moved, whether the
    migration Job may run."""

    previous_version: str
    rolled: frozenset[str] = frozenset()
    migration: bool = False


def migration_job_name(spec: StackSpec) -> str:
    """``<instance>-migrate-<version>``: one Job per target version, so it runs once."""
    return object_name(spec, MIGRATION, spec.harbor_version.replace(".", "-"))


def render_migration_job(spec: StackSpec) -> Object:
    """The Job running the new core image in migrate mode against the registry's database, once (no retry past
    ``JOB_BACKOFF_LIMIT``)."""
    migrate = container(
        "migrate",
        f"{spec.image_registry}/harbor-core:v{spec.harbor_version}",
        CORE,
        spec.components.core,
        ports=[],
        command=MIGRATE_COMMAND,
        env_from=[
            {"configMapRef": {"name": object_name(spec, CORE, "env")}},
            {"secretRef": {"name": object_name(spec, CORE)}},
        ],
        mounts=[mount("config", "/etc/core/app.conf", "app.conf")],
    )
    migrate.pop("ports")
    labels = pod_labels(spec, MIGRATION)
    pod_spec: Object = {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "restartPolicy": "Never",
        "securityContext": pod_security_context(),
        "containers": [migrate],
        "volumes": [config_map_volume("config", object_name(spec, CORE))],
    }
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(sorted(spec.node_selector.items()))
    if spec.tolerations:
        pod_spec["tolerations"] = [dict(toleration) for toleration in spec.tolerations]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(spec, MIGRATION, migration_job_name(spec)),
        "spec": {
            "backoffLimit": JOB_BACKOFF_LIMIT,
            "activeDeadlineSeconds": JOB_DEADLINE_SECONDS,
            "parallelism": 1,
            "completions": 1,
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


def render_migration_networkpolicy(spec: StackSpec) -> Object:
    """``<instance>-migration``: the Job's pod reaches the database (DNS comes from the namespace-wide policy)."""
    egress = [
        {
            "to": [{"ipBlock": {"cidr": cidr}} for cidr in endpoint_cidrs(spec, endpoint)],
            "ports": _ports([endpoint.port]),
        }
        for endpoint in external_endpoints(spec)
        if endpoint.what == "database"
    ]
    return _policy(
        spec,
        f"{spec.instance}-{MIGRATION}",
        {"matchLabels": selector_labels(spec, MIGRATION)},
        ["Ingress", "Egress"],
        ingress=[],
        egress=egress,
    )


def _component(obj: Object) -> str:
    return str(obj["metadata"]["labels"].get(COMPONENT_LABEL, ""))


def render_upgrade_stack(spec: StackSpec, stage: UpgradeStage) -> list[Object]:
    """The stack of ``spec`` (the target version) with the components not yet ``rolled`` at the previous version,
    plus, while the migration may run, the Job's share of the quota and its NetworkPolicy (the Job itself is applied
    by the upgrade, once: ``render_migration_job``)."""
    target = render_stack(spec)
    before = {_key(obj): obj for obj in render_stack(replace(spec, harbor_version=stage.previous_version))}
    objects: list[Object] = []
    for obj in target:
        component = _component(obj)
        if component in ROLL_ORDER and component not in stage.rolled:
            objects.append(before.get(_key(obj), obj))
        else:
            objects.append(obj)
    extra: list[Object] = []
    if stage.migration:
        extra = [render_migration_job(spec)]
        objects.append(render_migration_networkpolicy(spec))
    return _with_quota(spec, objects, extra)


def _key(obj: Object) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


def _with_quota(spec: StackSpec, objects: list[Object], extra: Iterable[Object]) -> list[Object]:
    """Replace the quota and limit range by those of ``objects`` and ``extra`` (pods counted, not rendered)."""
    counted = [obj for obj in (*objects, *extra) if obj["kind"] in POD_KINDS]
    stack = [obj for obj in objects if obj["kind"] not in ("ResourceQuota", "LimitRange")]
    quota = render_resourcequota(spec, required_quota(counted, http01_solver=spec.acme_http01))
    if spec.suspended:
        quota = next(obj for obj in objects if obj["kind"] == "ResourceQuota")
    stack += [quota, render_limitrange(spec, counted)]
    stack.sort(key=object_apply_order)
    return stack
