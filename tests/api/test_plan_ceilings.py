"""A plan's namespace ceilings are checked against what its largest registry's stack needs, and a registry's own
settings against its plan's ceilings: a field error naming what to lower, nothing saved."""

from __future__ import annotations

from provisioning.models import Plan, Registry
from tests import factories


def test_the_seeded_plans_fit_their_ceilings(db) -> None:
    for name in ("s", "m", "l"):
        plan = Plan.objects.get(name=name)
        assert plan.ceiling_errors() == {}, name
        assert "pods" in plan.largest_registry_summary()


def test_a_ceiling_below_the_largest_registry_is_refused_naming_the_field(admin_api) -> None:
    plan = Plan.objects.get(name="m")
    response = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"namespace_cpu_limit": "8"}, format="json")
    assert response.status_code == 400
    message = response.json()["error"]["fields"]["namespace_cpu_limit"][0]
    assert "18.6 CPU" in message and "raise the ceiling" in message
    plan.refresh_from_db()
    assert plan.namespace_cpu_limit == "20"


def test_requests_above_limits_are_refused(admin_api) -> None:
    plan = Plan.objects.get(name="s")
    response = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"cpu_request": "2"}, format="json")
    assert response.status_code == 400
    assert "above the cpu limit" in response.json()["error"]["fields"]["cpu_request"][0]


def test_a_registry_above_its_plans_ceiling_is_refused_on_the_field_to_lower(admin_api) -> None:
    plan = Plan.objects.create(
        name=f"tight{factories.RUN}",
        display_name="Tight",
        replicas=1,
        max_replicas=3,
        namespace_cpu_limit="100",
        namespace_memory_limit="100Gi",
    )
    registry = factories.registry(plan=plan)
    Plan.objects.filter(pk=plan.pk).update(namespace_cpu_limit="9")  # lowered behind the plan form's back
    response = admin_api.patch(f"/api/v1/registries/{registry.pk}/", {"replicas": 3}, format="json")
    assert response.status_code == 400, response.json()
    message = response.json()["error"]["fields"]["replicas"][0]
    assert "of limits" in message and "ceiling of 9 CPU" in message
    assert Registry.objects.get(pk=registry.pk).replicas is None


def test_the_invariant_matrix_uses_the_plans_as_seeded(db) -> None:
    from tests.rendering.matrix import seeded_plan

    for name in ("s", "m", "l"):
        stored, pure = Plan.objects.get(name=name), seeded_plan(name)
        for field in Plan.EDITABLE_FIELDS:
            if field not in ("description",):
                assert getattr(stored, field) == getattr(pure, field), (name, field)
