"""The main pages in real Chromium at 1280 px and at phone width, with screenshots under artifacts/screenshots/."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from provisioning import audit
from provisioning.choices import ComponentKind, ErrorClass, Phase, RunStatus, Via, WhoseMove
from provisioning.models import ReconcileRun, Registry
from tests import factories
from tests.fixtures.browser import BROWSER_DB
from tests.ui.conftest import database_unreachable

FITS_THE_WIDTH = "document.documentElement.scrollWidth <= window.innerWidth + 1"
"""The page itself never scrolls sideways; only tables do, inside their own box."""

pytestmark = [pytest.mark.browser, BROWSER_DB]


def small_fleet(actor) -> Registry:
    """A fleet with a registry in each interesting phase; returns the degraded one."""
    cluster = factories.cluster(name=f"emea-{factories.RUN}", region="eu-west", simulated=True)
    phases = [Phase.READY, Phase.READY, Phase.PROVISIONING, Phase.FAILED, Phase.SUSPENDED, Phase.UPGRADING]
    for n, phase in enumerate(phases):
        tenant = factories.tenant(name=f"Customer {n}", contact_email=f"ops{n}@customer{n}.example")
        registry = factories.registry(tenant=tenant, cluster=cluster, name=f"registry{n}")
        Registry.objects.filter(pk=registry.pk).update(phase=phase, last_reconciled_at=timezone.now())
    degraded = database_unreachable(
        factories.registry(tenant=factories.tenant(name="Acme Shipping"), cluster=cluster)
    )
    now = timezone.now()
    components = degraded.components.all()
    components.update(available=True, observed_at=now, ready_replicas=2, message="")
    core = degraded.components.get(kind=ComponentKind.JOBSERVICE)
    core.available, core.ready_replicas, core.message = False, 0, "0 of 2 ready: CrashLoopBackOff (database)"
    core.save()
    ReconcileRun.objects.filter(registry=degraded).update(
        status=RunStatus.FAILED, started_at=now - timedelta(seconds=3), finished_at=now, duration_ms=2950.0,
        error_class=ErrorClass.DEPENDENCY_UNREACHABLE, whose_move=WhoseMove.PROVIDER,
        error_message="The PostgreSQL database did not answer within 3 s.",
    )  # fmt: skip
    audit.record(actor, Via.UI, "update", degraded, changes={"replicas": [None, 2]})
    return degraded


def test_main_pages_at_desktop_and_phone_width(console, admin_user):
    degraded = small_fleet(admin_user)
    console.log_in(admin_user.username)
    page = console.page

    console.go("/monitoring/")  # the fleet overview (the monitoring app's page, also served at /)
    console.shot("fleet")

    console.go("/tenants/")
    assert page.get_by_role("link", name="New tenant").is_visible()
    console.shot("tenants")

    console.go("/registries/")
    console.shot("registries")
    page.get_by_label("Search").fill("acme")
    page.wait_for_url("**search=acme**")
    page.wait_for_load_state("networkidle")
    assert page.locator("#results tbody tr").count() == 1
    console.shot("registries-search")
    page.locator("#results thead").get_by_role("link", name="Phase").click()
    page.wait_for_url("**sort=phase**")
    expect(page.locator("#results th[aria-sort=ascending]")).to_have_text("Phase")
    page.locator("#results tbody").get_by_role("link", name=degraded.name).click()
    page.wait_for_url(f"**/registries/{degraded.pk}/")
    expect(page.locator("h1")).to_have_text(str(degraded))

    console.go(f"/registries/{degraded.pk}/")
    assert page.get_by_text("The PostgreSQL database did not answer within 3 s").first.is_visible()
    assert page.get_by_text("Provider's move").first.is_visible()
    page.locator(".comp-bad").focus()
    assert page.get_by_role("tooltip").filter(has_text="CrashLoopBackOff").is_visible()
    console.shot("registry-detail")

    console.go("/registries/new/")
    page.get_by_role("button", name="Create registry").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#id_tenant_error").is_visible()
    console.shot("registry-form-errors")

    console.go("/tenants/new/")
    page.get_by_label("Slug").fill("Not Valid")
    page.get_by_role("button", name="Create tenant").click()
    assert page.locator("#id_slug_error").is_visible()
    console.shot("tenant-form-errors")

    console.go("/audit/")
    console.shot("audit")

    console.go("/clusters/")
    console.shot("clusters")
    console.go("/clusters/new/")
    page.get_by_label("PostgreSQL admin URL").fill("postgres://admin:secret-typed-here@127.0.0.1:1/postgres")
    page.get_by_label("Name", exact=True).fill("edge-1")
    page.get_by_label("API URL").fill("http://127.0.0.1:1")
    page.get_by_role("button", name="Create cluster").click()
    expect(page.locator("#id_database_admin_url_error")).to_be_visible()
    assert "secret-typed-here" not in page.content()
    console.shot("cluster-form-errors")
    console.go("/plans/")
    console.shot("plans")

    console.go("/account/")
    page.get_by_label("Name").fill("order pipeline")
    page.get_by_role("button", name="Create token").click()
    assert page.get_by_text("it will not be shown again").is_visible()
    console.shot("account")

    registry_pages = ("", "edit/", "actions/delete/", "actions/rotate/", "actions/upgrade/")
    for path in (
        "/tenants/", "/registries/", "/registries/new/", "/clusters/new/", "/plans/", "/audit/", "/account/",
        *(f"/registries/{degraded.pk}/{page}" for page in registry_pages),
    ):  # fmt: skip
        console.go(path)
        assert console.unlabelled_controls() == [], path

    console.phone()
    console.go(f"/registries/{degraded.pk}/")
    assert page.evaluate(FITS_THE_WIDTH)
    console.shot("phone-registry-detail")
    console.go("/registries/")
    table = page.locator(".table-scroll").first
    assert table.evaluate("el => el.scrollWidth > el.clientWidth")  # the table scrolls, the page does not
    assert page.evaluate(FITS_THE_WIDTH)
    console.shot("phone-registries")


def test_keyboard_reaches_the_content_and_shows_focus(console, viewer):
    console.log_in(viewer.username)
    console.go("/registries/")
    page = console.page
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("el => el === document.activeElement")
    outline = skip.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
