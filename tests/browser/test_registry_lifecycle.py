"""The whole life of a registry through the console in real Chromium, reconciled by a real Celery worker on the
Kubernetes API emulator: log in, create a tenant and a registry, watch it reach Ready, upgrade it, see a failure
explained in words, delete it. Screenshots of each step go to artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from provisioning.choices import DesiredState, Phase
from provisioning.models import Registry, Tenant
from tests import factories
from tests.fixtures.browser import BROWSER_DB

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    BROWSER_DB,
]

SETTLE = 90_000
"""Milliseconds the page may take to show what the worker did (several reconcile runs in a row)."""


def phase_badge(page):
    return page.locator("#status .phase-line .badge")


def test_registry_lifecycle_in_the_browser(console, celery_worker, make_emulated_cluster, kube_emulator):
    cluster = make_emulated_cluster(
        name=f"emu-{factories.RUN}", region="test", queue=celery_worker.queue, backup_marker="PITR, 7 days"
    )
    operator = factories.user("operator")
    page = console.page
    slug = (
        f"t{factories.RUN}-acme"  # tenant names of this run: the services fixtures drop their databases after
    )

    console.log_in(operator.username)
    expect(page.get_by_text(f"{operator.username} · operator")).to_be_visible()

    # A tenant, with a mistake first.
    console.go("/tenants/new/")
    page.get_by_label("Slug").fill("Acme Shipping")
    page.get_by_label("Name", exact=True).fill("Acme Shipping")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.locator("#id_slug_error")).to_contain_text("is not a valid name")
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Contact email").fill("ops@acme.example")
    page.get_by_role("button", name="Create tenant").click()
    expect(page.get_by_text(f"Tenant {slug} created.")).to_be_visible()
    tenant = Tenant.objects.get(slug=slug)

    # A registry on the emulated cluster; the plan's defaults appear as soon as the plan is chosen.
    page.get_by_role("link", name="New registry").click()
    expect(page.get_by_label("Tenant", exact=True)).to_have_value(str(tenant.pk))
    page.get_by_label("Name", exact=True).fill("main")
    page.get_by_label("Cluster (optional)", exact=True).select_option(label=str(cluster))
    page.get_by_label("Hostname").fill(f"main.{slug}.registry.example.com")
    page.get_by_label("Harbor version").select_option("2.14.4")
    page.get_by_label("Plan", exact=True).select_option(label="Small")
    expect(page.locator("#id_storage_quota_gib_helptext")).to_contain_text("plan default: 200 GiB")
    page.get_by_label("Storage quota (GiB)").fill("900")
    page.get_by_role("button", name="Create registry").click()
    expect(page.locator("#id_storage_quota_gib_error")).to_contain_text(
        "above the Small plan's limit of 200 GiB"
    )
    console.shot("registry-create-errors")
    page.get_by_label("Storage quota (GiB)").fill("")
    page.get_by_role("button", name="Create registry").click()
    expect(page.get_by_text("its first reconciliation is queued")).to_be_visible()
    registry = Registry.objects.get(tenant=tenant, name="main")
    expect(page.get_by_text("Simulated cluster (Kubernetes API emulator).")).to_be_visible()

    # The worker provisions and deploys it; the page follows by itself until Ready.
    expect(phase_badge(page)).to_have_text("Ready", timeout=SETTLE)
    expect(page.locator(".comp-chip.comp-ok").first).to_be_visible()
    console.go(f"/registries/{registry.pk}/")
    expect(page.get_by_text(re.compile(r"Kubernetes objects \(\d+\)"))).to_be_visible()
    expect(page.locator("#status .service-ok").first).to_be_visible()
    console.shot("registry-ready")

    # Preview of an edit: the objects it would add, as diffs against what was applied; nothing saved.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.get_by_label("Vulnerability scanning").select_option("true")
    page.get_by_role("button", name="Preview changes").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("would change")
    expect(preview.locator(".preview-object", has_text="StatefulSet").first).to_contain_text("added")
    expect(preview.locator(".diff .add").first).to_be_visible()
    console.shot("registry-preview")
    preview.locator("details[open]").nth(2).evaluate("el => el.open = false")
    console.shot("registry-preview-diff", "#preview")
    registry.refresh_from_db()
    assert registry.trivy_enabled is None and registry.generation == 1
    page.get_by_role("link", name="Cancel").click()

    # Upgrade: only newer versions are offered; it goes step by step on the upgrade's page until it ends.
    page.get_by_role("link", name="Upgrade Harbor").click()
    expect(page.locator("main")).to_contain_text("migration Job")
    options = page.locator("#id_target_version option").all_inner_texts()
    assert "Harbor 2.14.4" not in options and "Harbor 2.13.5" not in options and "Harbor 2.15.2" in options
    page.get_by_label("Upgrade to").select_option("2.15.2")
    page.get_by_role("button", name="Upgrade Harbor").click()
    expect(page.get_by_text("to Harbor 2.15.2 started: pre-flight passed")).to_be_visible()
    expect(page.locator("#upgrade-progress")).to_contain_text("migration")
    expect(page.locator("#upgrade-progress h2")).to_have_text(
        "Upgrade to Harbor 2.15.2: Succeeded", timeout=SETTLE
    )
    page.get_by_role("link", name=str(registry)).first.click()
    expect(phase_badge(page)).to_have_text("Ready", timeout=SETTLE)
    registry.refresh_from_db()
    assert registry.harbor_version == "2.15.2"
    expect(page.locator(".facts")).to_contain_text("2.15.2")

    # A failure behind the console's back, explained in words with whose move it is.
    kube_emulator.break_workload(
        registry.namespace,
        "main-core",
        reason="ImagePullBackOff",
        message="Back-off pulling image harbor-core",
    )
    page.get_by_role("link", name="Reconcile now").click()
    page.get_by_role("button", name="Reconcile now").click()
    problems = page.locator(".problems")
    expect(problems).to_contain_text("core has 0 of", timeout=SETTLE)
    expect(problems).to_contain_text("Provider's move")
    expect(phase_badge(page)).not_to_have_text("Ready")
    console.shot("registry-failure")
    kube_emulator.heal_workload(registry.namespace, "main-core")

    # Delete: the name must be typed; the stack goes, the data stays until a purge.
    page.get_by_role("link", name="Delete").click()
    page.get_by_label("Type the registry's name to confirm").fill("nope")
    page.get_by_role("button", name="Delete").click()
    expect(page.locator("#id_confirm_name_error")).to_contain_text("type main to confirm")
    page.get_by_label("Type the registry's name to confirm").fill("main")
    page.get_by_role("button", name="Delete").click()
    expect(phase_badge(page)).to_have_text("Deleted", timeout=SETTLE)
    registry.refresh_from_db()
    assert registry.desired_state == DesiredState.DELETED and registry.phase == Phase.DELETED
    assert not kube_emulator.objects(namespace=registry.namespace)
    offered = page.locator(".page-head .toolbar a").all_inner_texts()
    assert offered == ["Reconcile now", "Export YAML"]  # purging is for admins; the rest needs a live stack
    console.shot("registry-deleted")

    console.go(f"/audit/?tenant={slug}")
    for action in ("create", "upgrade", "reconcile", "delete"):
        expect(page.locator("#results").get_by_text(action, exact=True).first).to_be_visible()
    console.shot("audit-after-lifecycle")
