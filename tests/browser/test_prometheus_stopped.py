"""Prometheus stops while a support engineer watches: the fleet overview, the registries list and the registry page
turn the registry from Healthy to Unknown by themselves (no reload), and say why. Never Healthy without evidence."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from monitoring.localprom import LocalPrometheus, copy_blocks
from tests import factories
from tests.fixtures.browser import BROWSER_DB
from tests.fixtures.prometheus import PrometheusHistory, monitor

pytestmark = [pytest.mark.browser, pytest.mark.prometheus, BROWSER_DB]

WITHIN = 15_000
"""Milliseconds for a page to show the change: a poll (1 s), the cached answers' lifetime (1 s), the query deadline."""


def test_stopping_prometheus_turns_healthy_into_unknown_everywhere_without_reloading(
    console, settings, prometheus_history, tmp_path
):
    settings.LIVE_REFRESH_SECONDS = 1
    settings.PROMETHEUS_CACHE_SECONDS = 1
    copy_blocks(prometheus_history.server.tsdb_dir, tmp_path / "tsdb")  # a Prometheus of its own, to stop
    server = LocalPrometheus(tmp_path / "tsdb", tmp_path)
    server.start()
    try:
        fleet = monitor(
            PrometheusHistory(server.url, prometheus_history.history, prometheus_history.fleet, server),
            settings,
        )
        viewer = factories.user("viewer")
        console.log_in(viewer.username)
        overview = console.page
        console.go("/")
        healthy = overview.locator("#fleet-table tr[data-health='Healthy']").first
        expect(healthy).to_be_visible()
        registry_id = int(healthy.get_attribute("data-registry-id") or 0)
        registry = next(r for r in fleet.registries.values() if r.pk == registry_id)
        listing = overview.context.new_page()
        detail = overview.context.new_page()
        listing.goto(f"{console.base_url}/registries/")
        detail.goto(f"{console.base_url}/registries/{registry.pk}/")
        fleet_row = overview.locator(f"#fleet-table tr[data-registry-id='{registry.pk}']")
        list_health = listing.locator(f"#results tbody tr:has(a[href='/registries/{registry.pk}/'])").locator(
            "[data-health]"
        )
        page_health = detail.locator("#health [data-health]")
        expect(list_health).to_have_text("Healthy")
        expect(page_health).to_have_text("Healthy")

        server.stop()

        expect(fleet_row).to_have_attribute("data-health", "Unknown", timeout=WITHIN)
        expect(overview.locator("#fleet-table tr[data-health='Healthy']")).to_have_count(0)
        expect(list_health).to_have_text("Unknown", timeout=WITHIN)
        expect(page_health).to_have_text("Unknown", timeout=WITHIN)
        expect(detail.locator("#status")).to_contain_text("Prometheus", timeout=WITHIN)
        console.shot("prometheus-stopped-fleet")
    finally:
        server.stop()
