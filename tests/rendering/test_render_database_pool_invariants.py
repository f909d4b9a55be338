"""Every Harbor pod that holds database connections, at its peak, stays within the tenant role's connection limit.

Core and the exporter are given ``POSTGRESQL_MAX_OPEN_CONNS`` / ``HARBOR_DATABASE_MAX_OPEN_CONNS``; the job service
opens the database configuration core hands it, with the same pool size. During a rollout each Deployment runs
``replicas + maxSurge`` pods, all of them connected. A real PostgreSQL refuses connections past the role's
``CONNECTION LIMIT`` ("too many connections for role"), so the sum must fit over the whole matrix, and at the plan's
largest replica count.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from provisioning.rendering import render_stack
from provisioning.rendering.labels import COMPONENT_LABEL
from provisioning.sizing import component_set
from tests.rendering.matrix import MATRIX, matrix_objects, matrix_spec, seeded_plan

DATABASE_CLIENTS = ("core", "jobservice", "exporter")


def connected_pods_at_peak(objects: list[dict[str, Any]]) -> int:
    pods = 0
    for obj in objects:
        if (
            obj["kind"] != "Deployment"
            or obj["metadata"]["labels"].get(COMPONENT_LABEL) not in DATABASE_CLIENTS
        ):
            continue
        replicas = obj["spec"]["replicas"]
        surge = obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
        assert isinstance(surge, int), "a percentage surge would need rounding: state it as a count"
        pods += replicas + surge if replicas else 0
    return pods


@pytest.mark.parametrize("point", [p for p in MATRIX if not p[5]], ids=str)
def test_the_stacks_pools_fit_the_plans_connection_limit(point):
    spec = matrix_spec(point)
    plan = seeded_plan(point[1])
    pods = connected_pods_at_peak(matrix_objects(point))
    assert pods * spec.database.max_open_conns <= plan.database_connection_limit
    assert spec.database.max_idle_conns <= spec.database.max_open_conns


@pytest.mark.parametrize("plan_name", ["s", "m", "l"])
def test_the_largest_registry_of_each_plan_fits_too(plan_name):
    plan = seeded_plan(plan_name)
    point = ("2.15.2", plan_name, True, "managed", True, False)
    largest = component_set(plan.effective_settings(replicas=plan.max_replicas, trivy_enabled=True))
    spec = replace(matrix_spec(point), components=largest)
    pods = connected_pods_at_peak(render_stack(spec))
    assert pods == plan.database_clients()
    assert pods * spec.database.max_open_conns <= plan.database_connection_limit
