"""The waves pages and a registry's upgrade page: roles, a plan from the form, batches live, refusals shown."""

from __future__ import annotations

import pytest
from django.test import Client

from provisioning.models import AuditEvent, Upgrade, Wave, WaveStatus
from tests import factories

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_plans_a_wave_and_a_viewer_follows_its_batches(operator, viewer):
    tenant = factories.tenant()
    chosen = [factories.registry(tenant=tenant) for _ in range(3)]
    answer = login(operator).post(
        "/waves/",
        {
            "name": "tenant wave",
            "target_version": "2.15.2",
            "from_version": "",
            "tenant": tenant.pk,
            "batch_size": 2,
            "pause_seconds": 60,
            "window_seconds": 600,
            "error_ratio_margin": 0.01,
            "latency_margin": 0.2,
            "upgrade_budget_seconds": 1800,
        },
    )
    wave = Wave.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/waves/{wave.pk}/"
    assert AuditEvent.objects.filter(action="wave-plan", actor=operator).exists()

    viewer_client = login(viewer)
    page = viewer_client.get(f"/waves/{wave.pk}/").content.decode()
    assert "Wave tenant wave: Planned" in page and "/start/" not in page
    for registry in chosen:
        assert f"{registry.tenant.slug}/{registry.name}" in page
    assert viewer_client.post(f"/waves/{wave.pk}/abort/").status_code == 403
    wave.refresh_from_db()
    assert wave.status == WaveStatus.PLANNED

    live = viewer_client.get(f"/waves/{wave.pk}/live/")
    assert live.status_code == 200 and "Batches" in live.content.decode()


def test_a_wave_that_selects_nothing_says_so_on_the_form(operator):
    answer = login(operator).post(
        "/waves/",
        {
            "name": "nothing",
            "target_version": "2.15.2",
            "from_version": "2.13.0",
            "batch_size": 5,
            "pause_seconds": 0,
            "window_seconds": 600,
            "error_ratio_margin": 0.01,
            "latency_margin": 0.2,
            "upgrade_budget_seconds": 1800,
        },
    )
    assert answer.status_code == 400 and "No running registry matches" in answer.content.decode()
    assert not Wave.objects.exists()


def test_a_registry_upgrade_page_shows_a_refused_preflight_and_the_viewer_cannot_start_one(operator, viewer):
    registry = factories.registry()
    assert (
        "Upgrade step by step"
        not in login(viewer).get(f"/registries/{registry.pk}/upgrade/").content.decode()
    )
    assert (
        login(viewer).post(f"/registries/{registry.pk}/upgrade/", {"target_version": "2.15.2"}).status_code
        == 403
    )

    client = login(operator)
    answer = client.post(
        f"/registries/{registry.pk}/upgrade/",
        {"target_version": "2.15.2", "budget_seconds": 600},
        follow=True,
    )
    page = answer.content.decode()
    assert "Upgrade to Harbor 2.15.2: Halted" in page
    assert "not Ready" in page and "preflight" in page
    registry.refresh_from_db()
    assert registry.harbor_version == "2.14.4"


def test_the_registry_page_loads_its_upgrade_progress_as_a_live_region(viewer):
    registry = factories.registry()
    client = login(viewer)
    page = client.get(f"/registries/{registry.pk}/").content.decode()
    assert f'hx-get="/registries/{registry.pk}/upgrade/"' in page
    fragment = client.get(f"/registries/{registry.pk}/upgrade/", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section id="upgrade-progress"') and "No upgrade yet" in fragment
    assert "data-live" not in fragment  # nothing moves: nothing to poll

    Upgrade.objects.create(registry=registry, from_version="2.14.4", to_version="2.15.2", step="migration")
    fragment = client.get(f"/registries/{registry.pk}/upgrade/", HTTP_HX_REQUEST="true").content.decode()
    assert "Upgrade to Harbor 2.15.2: Running" in fragment and "data-live" in fragment
