"""A component broken on the cluster shows on the fleet overview, the registries list and the registry page within
5 s, and so does its repair, without reloading: the watcher asks a real worker for the reconcile, the pages poll.
The sweep never runs here."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from provisioning.choices import Phase
from tests import factories
from tests.engine.helpers import wait_phase
from tests.fixtures.browser import BROWSER_DB

pytestmark = [pytest.mark.browser, pytest.mark.worker, BROWSER_DB]

WITHIN = 5_000
"""Milliseconds from the change on the cluster to the pages."""


def test_a_broken_component_shows_degraded_everywhere_then_ready_after_the_fix(
    console, settings, celery_worker, make_emulated_cluster, kube_emulator, start_watcher
):
    settings.LIVE_REFRESH_SECONDS = 1
    settings.PROMETHEUS_URL = ""
    cluster = make_emulated_cluster(queue=celery_worker.queue)
    registry = wait_phase(factories.registry(cluster=cluster, harbor_version="2.14.4"), Phase.READY)
    start_watcher(send_to_workers=True).wait_synced(cluster)
    viewer = factories.user("viewer")
    console.log_in(viewer.username)
    fleet = console.page
    listing = fleet.context.new_page()
    detail = fleet.context.new_page()
    console.go("/")
    listing.goto(f"{console.base_url}/registries/")
    detail.goto(f"{console.base_url}/registries/{registry.pk}/")
    fleet_row = fleet.locator(f"#fleet-table tr[data-registry-id='{registry.pk}']")
    list_row = listing.locator("#results tbody tr", has_text=registry.name)
    phase = detail.locator("#status .phase-line .badge")
    expect(fleet_row).to_contain_text("Ready")
    expect(list_row).to_contain_text("Ready")
    expect(phase).to_have_text("Ready")

    kube_emulator.break_workload(
        registry.namespace, f"{registry.name}-registry", reason="ImagePullBackOff", message="Back-off pulling"
    )

    expect(fleet_row).to_have_attribute("data-health", "Degraded", timeout=WITHIN)
    expect(fleet_row).to_contain_text("ImagePullBackOff")
    expect(list_row.locator("[data-health]")).to_have_text("Degraded", timeout=WITHIN)
    expect(list_row).to_contain_text("ImagePullBackOff")
    expect(phase).to_have_text("Degraded", timeout=WITHIN)
    expect(detail.locator(".problems")).to_contain_text("ImagePullBackOff")
    console.shot("watch-broken-component-fleet")

    kube_emulator.heal_workload(registry.namespace, f"{registry.name}-registry")

    expect(phase).to_have_text("Ready", timeout=WITHIN)
    expect(list_row).to_contain_text("Ready", timeout=WITHIN)
    expect(list_row).not_to_contain_text("ImagePullBackOff")
    expect(fleet_row).not_to_have_attribute("data-health", "Degraded", timeout=WITHIN)
    expect(fleet_row).to_contain_text("Ready")
