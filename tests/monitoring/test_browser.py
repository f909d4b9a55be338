"""The monitoring pages in real Chromium: the fleet table filters and sorts in place (htmx), the drill-down draws
its charts, the registry page embeds the monitoring panel. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from provisioning.services import registries as registry_services
from tests.fixtures.prometheus import MonitoredFleet

pytestmark = [
    pytest.mark.browser,
    pytest.mark.prometheus,
    pytest.mark.xdist_group("prometheus"),
    pytest.mark.django_db(transaction=True),
]

FITS_THE_WIDTH = "document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def fleet_in_browser(console, monkeypatch, request) -> MonitoredFleet:
    monkeypatch.setattr(registry_services, "enqueue_run", lambda *args: None)  # no reconciliation wanted here
    return request.getfixturevalue("monitored_fleet")


def rows(page) -> list[str]:
    return page.locator("#fleet-table tbody tr[data-namespace]").evaluate_all(
        "rows => rows.map(r => r.dataset.namespace)"
    )


def test_fleet_overview_filters_sorts_and_links(console, fleet_in_browser: MonitoredFleet, viewer) -> None:
    console.log_in(viewer.username)
    page = console.page
    console.go("/monitoring/")
    assert page.locator(".health-strip [data-health=Healthy]").inner_text().startswith("5")
    assert len(rows(page)) == 10
    console.shot("monitoring-fleet")
    assert console.unlabelled_controls() == []

    page.select_option("select[name=health]", "Degraded")
    expect(page.locator("#fleet-table tbody tr[data-namespace]")).to_have_count(2)
    assert "health=Degraded" in page.url  # the filtered view can be bookmarked and shared
    assert sorted(rows(page)) == ["harbor-globex-prod", "harbor-umbrella-ci"]

    page.select_option("select[name=health]", "")
    expect(page.locator("#fleet-table tbody tr[data-namespace]")).to_have_count(10)
    page.get_by_role("link", name="Storage of plan").click()
    page.wait_for_url("**sort=-storage_share**")
    page.wait_for_load_state("networkidle")
    assert rows(page)[0] == "harbor-hooli-images"  # the fullest tenant first

    page.locator("tr[data-namespace=harbor-hooli-images]").get_by_role("link", name="Metrics").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("svg.chart").count() == 13
    page.get_by_role("link", name="24h").click()
    page.wait_for_load_state("networkidle")
    assert "range=24h" in page.url and page.locator("svg.chart polyline").count() >= 13
    console.shot("monitoring-registry")

    console.phone()
    console.go("/monitoring/")
    console.shot("monitoring-fleet-phone")
    assert page.evaluate(FITS_THE_WIDTH)
    console.go(f"/monitoring/registries/{fleet_in_browser.registry('hooli').pk}/")
    console.shot("monitoring-registry-phone")
    assert page.evaluate(FITS_THE_WIDTH)
    console.desktop()


def test_business_dashboard(console, fleet_in_browser: MonitoredFleet, viewer) -> None:
    console.log_in(viewer.username)
    page = console.page
    console.go("/monitoring/business/?range=7d")
    assert page.locator("[data-total=storage]").inner_text().strip()[0].isdigit()
    page.get_by_role("link", name="Pulls", exact=True).click()
    page.wait_for_url("**sort=pulls**")
    assert page.locator("#top-consumers tbody tr").count() == 10
    console.shot("monitoring-business")
    console.phone()
    assert page.evaluate(FITS_THE_WIDTH)
    console.desktop()


def test_registry_page_embeds_the_monitoring_panel(console, fleet_in_browser: MonitoredFleet, viewer) -> None:
    console.log_in(viewer.username)
    page = console.page
    registry = fleet_in_browser.registry("umbrella")
    console.go(f"/registries/{registry.pk}/")
    panel = page.locator(".monitoring-panel")
    panel.wait_for()
    assert panel.locator("[data-component=jobservice].chip-down").count() == 1
    assert panel.locator("svg.chart").count() == 1
    console.shot("monitoring-panel", ".monitoring-panel")
