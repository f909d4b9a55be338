"""Live pages in real Chromium: the registry page (header included, in every state), the registries list and the
fleet overview follow the database by themselves, with one mechanism (htmx polling of live regions), and leave
an unchanged region alone."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from provisioning.choices import Phase, WhoseMove
from provisioning.models import Registry
from provisioning.services import registries as registry_services
from tests import factories
from tests.fixtures.browser import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

SOON = 8_000
"""Milliseconds a change may take to show: a poll every second, then the swap."""

DATABASE_DOWN = [
    {"type": "DependenciesReady", "status": "False", "reason": "DependenciesFailing",
     "message": "Database: the PostgreSQL service refused the connection.", "whose_move": WhoseMove.PROVIDER},
    {"type": "Degraded", "status": "True", "reason": "DependenciesFailing",
     "message": "Database: the PostgreSQL service refused the connection.", "whose_move": WhoseMove.PROVIDER},
]  # fmt: skip


@pytest.fixture
def live(settings, monkeypatch):
    settings.LIVE_REFRESH_SECONDS = 1
    settings.PROMETHEUS_URL = ""
    monkeypatch.setattr(registry_services, "enqueue_run", lambda *args: None)


def test_the_registry_page_follows_every_state_header_included(console, operator, live):
    registry = factories.registry(cluster=factories.observed_cluster())
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY)
    console.log_in(operator.username)
    page = console.page
    console.go(f"/registries/{registry.pk}/")
    phase = page.locator("#status .phase-line .badge")
    expect(phase).to_have_text("Ready")

    Registry.objects.filter(pk=registry.pk).update(phase=Phase.DEGRADED, conditions=DATABASE_DOWN)
    expect(phase).to_have_text("Degraded", timeout=SOON)
    expect(page.locator(".problems")).to_contain_text("refused the connection", timeout=SOON)
    expect(page.locator("#health .badge")).to_have_text("Degraded")

    # Still polled while Degraded: a repair shows, and so do the header's facts.
    Registry.objects.filter(pk=registry.pk).update(
        phase=Phase.READY, conditions=[], generation=5, observed_generation=5, harbor_version="2.15.2"
    )
    expect(phase).to_have_text("Ready", timeout=SOON)
    expect(page.locator(".facts")).to_contain_text("5 (observed 5)", timeout=SOON)
    expect(page.locator(".facts")).to_contain_text("2.15.2")
    console.shot("live-registry-repaired")

    Registry.objects.filter(pk=registry.pk).update(phase=Phase.FAILED)
    expect(phase).to_have_text("Failed", timeout=SOON)
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.SUSPENDED, desired_state="suspended")
    expect(phase).to_have_text("Suspended", timeout=SOON)
    expect(page.locator(".page-head .toolbar")).to_contain_text("Resume", timeout=SOON)  # the actions follow
    expect(page.locator("[data-service=ingress] .badge")).to_have_text("Not serving")


def test_an_unchanged_region_is_left_alone(console, viewer, live):
    registry = factories.registry(cluster=factories.observed_cluster())
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.DEGRADED, conditions=DATABASE_DOWN)
    console.log_in(viewer.username)
    page = console.page
    swaps: list[str] = []
    page.expose_function("noteSwap", lambda target: swaps.append(target))
    console.go(f"/registries/{registry.pk}/")
    page.evaluate(
        "document.body.addEventListener('htmx:afterSwap', e => window.noteSwap(e.detail.target.id))"
    )
    page.locator("#all-conditions summary").click()  # the person closes the conditions (open while Degraded)
    page.wait_for_timeout(1500)  # the first polls bring the content with its digest
    swaps.clear()
    page.wait_for_timeout(3500)  # three polls more, nothing changed
    assert "registry-live" not in swaps
    assert page.locator("#all-conditions").evaluate("el => el.open") is False
    Registry.objects.filter(pk=registry.pk).update(generation=9)
    expect(page.locator(".facts")).to_contain_text("9 (observed", timeout=SOON)
    assert page.locator("#all-conditions").evaluate("el => el.open") is False  # kept as the person left it


def test_the_registries_list_and_the_fleet_overview_refresh_themselves(console, viewer, live):
    cluster = factories.observed_cluster()
    registry = factories.registry(cluster=cluster)
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY)
    console.log_in(viewer.username)
    page = console.page

    console.go("/registries/")
    row = page.locator("#results tbody tr", has_text=registry.name)
    expect(row).to_contain_text("Ready")
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.DEGRADED, conditions=DATABASE_DOWN)
    expect(row).to_contain_text("Degraded", timeout=SOON)
    expect(row.locator("[data-health]")).to_have_text("Degraded")
    expect(row).to_contain_text("refused the connection")

    console.go("/")
    fleet_row = page.locator(f"#fleet-table tr[data-registry-id='{registry.pk}']")
    expect(fleet_row).to_have_attribute("data-health", "Degraded")
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY, conditions=[])
    cluster.api_reachable, cluster.last_error, cluster.last_error_at = (
        False,
        "connection refused",
        timezone.now(),
    )
    cluster.save()
    expect(fleet_row).to_have_attribute("data-health", "Unknown", timeout=SOON)  # a cluster outage: Unknown
    expect(page.locator(f"#clusters [data-cluster='{cluster.name}']")).to_have_attribute(
        "data-state", "Unreachable"
    )
    expect(page.locator(".health-strip [data-health=Unknown]")).to_have_attribute("data-count", "1")
    console.shot("live-fleet-cluster-down")
