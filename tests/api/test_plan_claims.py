"""A plan edit that would shrink the claim a managed Redis keeps its data on is refused, naming the field.

A claim only grows: the StatefulSet's claim template change itself is carried out by the engine (orphan-delete and
re-create, ``tests/engine/test_immutable_on_cluster.py``), but a smaller size cannot hold the data already there.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from provisioning.choices import CacheMode
from provisioning.models import Plan
from tests import factories


def fresh_plan() -> Plan:
    return Plan.objects.create(name=f"redis{factories.RUN}", display_name="Redis", redis_persistence_gib=4)


def test_lowering_the_redis_size_under_a_managed_redis_is_refused_in_the_api(admin_api) -> None:
    plan = fresh_plan()
    factories.registry(plan=plan, cache_mode=CacheMode.MANAGED)

    response = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"redis_persistence_gib": 2}, format="json")

    assert response.status_code == 400
    message = response.json()["error"]["fields"]["redis_persistence_gib"][0]
    assert "cannot shrink" in message and "Keep 4 GiB" in message
    plan.refresh_from_db()
    assert plan.redis_persistence_gib == 4


def test_lowering_it_is_refused_in_the_form_too(admin_user) -> None:
    plan = fresh_plan()
    factories.registry(plan=plan, cache_mode=CacheMode.MANAGED)
    client = Client()
    client.force_login(admin_user)
    url = reverse("provisioning:plan-edit", args=[plan.pk])
    form = client.get(url).context["form"]
    data = {name: form.initial.get(name) for name in form.fields}
    data = {k: ("on" if v is True else "" if v in (None, False) else v) for k, v in data.items()}

    response = client.post(url, {**data, "redis_persistence_gib": 1})

    assert response.status_code == 400
    assert "cannot shrink" in response.content.decode()
    plan.refresh_from_db()
    assert plan.redis_persistence_gib == 4


def test_growing_it_or_lowering_it_without_a_managed_redis_is_allowed(admin_api) -> None:
    plan = fresh_plan()
    factories.registry(plan=plan, cache_mode=CacheMode.PROVIDER)

    lower = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"redis_persistence_gib": 2}, format="json")
    higher = admin_api.patch(f"/api/v1/plans/{plan.pk}/", {"redis_persistence_gib": 8}, format="json")

    assert (lower.status_code, higher.status_code) == (200, 200)
    plan.refresh_from_db()
    assert plan.redis_persistence_gib == 8
