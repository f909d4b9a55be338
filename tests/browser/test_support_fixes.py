"""What a support engineer found wrong in the console (issue #12), each seen in real Chromium and each able to fail.

Screenshots of the pages involved go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from provisioning.choices import ErrorClass, Phase, RunStatus, RunTrigger, WhoseMove
from provisioning.models import ReconcileRun, Registry
from provisioning.services import registries as registry_services
from tests import factories
from tests.fixtures.browser import BROWSER_DB, PHONE

pytestmark = [pytest.mark.browser, BROWSER_DB]

FITS_THE_WIDTH = "document.documentElement.scrollWidth <= window.innerWidth + 1"
RED_TEXT = "rgb(164, 14, 38)"  # the bad badge's text
RED_LINE = "rgb(207, 34, 46)"  # --bad
NOW = timezone.now

ROLLED_OUT = [
    {"type": "DependenciesReady", "status": "True", "reason": "AllReady", "whose_move": "",
     "message": "The database, cache, object storage and TLS certificate are ready."},
    {"type": "ResourcesApplied", "status": "True", "reason": "Applied", "message": "All 31 objects are applied.",
     "whose_move": ""},
    {"type": "Available", "status": "False", "reason": "ComponentsStarting", "whose_move": WhoseMove.TRANSIENT,
     "message": "Jobservice has 0 of 1 ready."},
    {"type": "Progressing", "status": "False", "reason": "RolloutComplete", "message": "No rollout is under way.",
     "whose_move": ""},
    {"type": "Degraded", "status": "False", "reason": "AsExpected", "message": "Nothing is degraded.",
     "whose_move": ""},
]  # fmt: skip


@pytest.fixture
def quiet(monkeypatch):
    """No reconciliation is wanted by these pages: a queued run stays queued."""
    monkeypatch.setattr(registry_services, "enqueue_run", lambda *args: None)


def registry_in(phase: str, **fields) -> Registry:
    registry = factories.registry(cluster=factories.observed_cluster())
    Registry.objects.filter(pk=registry.pk).update(phase=phase, **fields)
    registry.refresh_from_db()
    return registry


def test_progressing_false_is_neutral_and_whose_move_reads_as_words(console, viewer, quiet):
    registry = registry_in(Phase.READY, conditions=ROLLED_OUT)
    console.log_in(viewer.username)
    page = console.page
    console.go(f"/monitoring/registries/{registry.pk}/")
    progressing = page.locator("[data-condition=Progressing]")
    expect(progressing).to_be_visible()
    assert progressing.locator(".badge").first.evaluate("el => getComputedStyle(el).color") != RED_TEXT
    assert progressing.evaluate("el => getComputedStyle(el).borderLeftColor") != RED_LINE
    conditions = page.locator("[data-condition]").all_inner_texts()
    assert not any("transient's move" in text for text in conditions)
    expect(page.locator("[data-condition=Available]")).to_contain_text("Transient — retried automatically")
    console.shot("fix-conditions-monitoring")
    console.go(f"/registries/{registry.pk}/")
    page.locator("#all-conditions summary").click()
    row = page.locator("#all-conditions tr", has_text="RolloutComplete")
    assert row.locator(".badge").first.evaluate("el => getComputedStyle(el).color") != RED_TEXT


def test_failed_runs_card_lists_a_registry_once_and_shows_whose_move_at_1280(console, viewer, quiet):
    flaky = registry_in(Phase.DEGRADED)
    other = registry_in(Phase.FAILED)
    for registry, retries in ((flaky, 4), (other, 1)):
        ReconcileRun.objects.filter(registry=registry).delete()
        for attempt in range(retries):
            ReconcileRun.objects.create(
                registry=registry, trigger=RunTrigger.RETRY, status=RunStatus.FAILED, attempt=attempt + 1,
                error_class=ErrorClass.API_UNAVAILABLE, whose_move=WhoseMove.TRANSIENT,
                error_message="The API server answered 503 Service Unavailable three times in a row.",
                requested_at=NOW() - timedelta(minutes=10 - attempt), finished_at=NOW(),
            )  # fmt: skip
    console.log_in(viewer.username)
    page = console.page
    console.go("/")
    card = page.locator("#failed-runs")
    assert card.locator("tbody tr", has_text=flaky.name).count() == 1
    assert card.locator("tbody tr", has_text=other.name).count() == 1
    expect(card.locator("tbody tr", has_text=flaky.name)).to_contain_text("4 failed runs")
    cell = card.locator("tbody tr", has_text=flaky.name).locator("td").nth(2)
    expect(cell).to_contain_text("Transient — retried automatically")
    box, frame = cell.bounding_box(), card.bounding_box()
    assert box["x"] + box["width"] <= frame["x"] + frame["width"], "the whose-move column is cut"
    scroller = card.locator(".table-scroll")
    assert scroller.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
    console.shot("fix-failed-runs", "#failed-runs")


def test_suspending_mid_upgrade_says_what_will_happen(console, operator, quiet):
    registry = registry_in(Phase.UPGRADING, harbor_version="2.15.2", deployed_version="2.14.4")
    console.log_in(operator.username)
    page = console.page
    console.go(f"/registries/{registry.pk}/actions/suspend/")
    warning = page.locator("#op-warning")
    expect(warning).to_contain_text("upgrade to Harbor 2.15.2 is under way")
    expect(warning).to_contain_text("resume")
    console.shot("fix-suspend-mid-upgrade")


def test_purge_is_not_offered_during_retention_and_says_when_it_becomes_possible(console, admin_user, quiet):
    deleted_at = NOW() - timedelta(days=3)
    registry = registry_in(Phase.DELETED, desired_state="deleted", deleted_at=deleted_at)
    console.log_in(admin_user.username)
    page = console.page
    console.go(f"/registries/{registry.pk}/")
    assert page.locator(".page-head .toolbar").get_by_role("link", name="Purge data").count() == 0
    when = (deleted_at + timedelta(days=30)).strftime("%Y-%m-%d")
    expect(page.locator("#retention")).to_contain_text(f"retained until {when}")
    expect(page.locator("#retention")).to_contain_text("purging becomes possible then")
    console.shot("fix-purge-retention")
    console.go(f"/registries/{registry.pk}/actions/purge/")
    expect(page.get_by_role("alert")).to_contain_text(f"retained until {when}")
    assert page.get_by_label("Type the registry's name to confirm").count() == 0  # nothing to type in vain


def test_delete_confirmation_accepts_tenant_slash_name(console, operator, quiet):
    registry = registry_in(Phase.READY)
    console.log_in(operator.username)
    page = console.page
    console.go(f"/registries/{registry.pk}/actions/delete/")
    field = page.get_by_label(re.compile("Type the registry"))
    field.fill(f"{registry.tenant.slug}/{registry.name}")
    page.get_by_role("button", name="Delete").click()
    expect(page.get_by_text("Delete: requested")).to_be_visible()
    registry.refresh_from_db()
    assert registry.desired_state == "deleted"


def test_focus_goes_to_the_first_error_and_to_the_confirmation_field(console, operator, quiet):
    registry = registry_in(Phase.READY)
    console.log_in(operator.username)
    page = console.page
    console.go("/registries/new/")
    page.get_by_role("button", name="Create registry").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.activeElement.id") == "id_tenant"
    console.go(f"/registries/{registry.pk}/actions/delete/")
    assert page.evaluate("document.activeElement.id") == "id_confirm_name"
    page.keyboard.type("not-its-name")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_confirm_name"
    console.go(f"/registries/{registry.pk}/actions/suspend/")
    assert page.evaluate("document.activeElement.textContent.trim()") == "Suspend"


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/", "Fleet"),
        ("/registries/", "Registries"),
        ("/monitoring/business/", "Business"),
        ("/audit/", "Audit log"),
    ],
)
def test_the_nav_marks_the_current_page(console, viewer, quiet, path, current):
    console.log_in(viewer.username)
    console.go(path)
    marked = console.page.locator("nav[aria-label=Main] a[aria-current=page]")
    assert marked.all_inner_texts() == [current]


def test_a_registry_page_marks_registries_in_the_nav(console, viewer, quiet):
    registry = registry_in(Phase.READY)
    console.log_in(viewer.username)
    console.go(f"/registries/{registry.pk}/")
    assert console.page.locator("nav[aria-label=Main] a[aria-current=page]").all_inner_texts() == [
        "Registries"
    ]


def test_the_account_page_does_not_scroll_sideways_on_a_phone(console, viewer, quiet, settings):
    settings.LIVE_REFRESH_SECONDS = 1
    console.log_in(viewer.username)
    page = console.page
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    console.phone()
    console.go("/account/")
    assert page.evaluate(FITS_THE_WIDTH)
    page.get_by_label("Name").fill("a pipeline with a rather long descriptive name")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    assert page.evaluate(FITS_THE_WIDTH)
    console.shot("fix-account-phone")
    page.wait_for_timeout(2500)  # the token list keeps refreshing from the account page's address
    assert errors == [] and page.get_by_text("it will not be shown again").is_visible()


def test_the_audit_log_names_plans_and_clusters(console, admin_user, quiet):
    registry = registry_in(Phase.READY)
    large = factories.plan("l")
    registry_services.update_registry(registry, {"plan": large}, actor=admin_user, via="ui")
    console.log_in(admin_user.username)
    page = console.page
    console.go(f"/audit/?registry={registry.pk}")
    changes = page.locator("#results .changes").first
    expect(changes).to_contain_text(f"plan: {factories.plan('m')} → {large}")
    assert "plan_id" not in page.locator("#results").inner_text()
    console.shot("fix-audit-names")
    console.go(f"/registries/{registry.pk}/")  # the registry's timeline reads the same
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text(f"plan: {factories.plan('m')} → {large}")
    assert "plan_id" not in timeline.inner_text() and "cluster_id" not in timeline.inner_text()


def test_api_docs_ask_nothing_from_the_internet_and_redoc_is_gone(console, viewer, quiet):
    console.log_in(viewer.username)
    page = console.page
    hosts: list[str] = []
    page.on("request", lambda request: hosts.append(urlsplit(request.url).netloc))
    console.go("/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    console.go("/api/redoc/")
    assert urlsplit(page.url).path == "/api/docs/"
    own = urlsplit(console.base_url).netloc
    assert hosts and set(hosts) == {own}, set(hosts)


def test_every_page_has_a_favicon(console, viewer, quiet):
    console.log_in(viewer.username)
    page = console.page
    console.go("/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(console.base_url + href)
    assert icon.ok and icon.headers["content-type"].startswith("image/")
    assert page.request.get(console.base_url + "/favicon.ico").ok


def test_the_fleet_plan_filter_shows_plan_names(console, viewer, quiet):
    for plan in ("s", "m", "l"):
        factories.registry(plan=factories.plan(plan))
    console.log_in(viewer.username)
    console.go("/")
    options = console.page.locator("select[name=plan] option").all_inner_texts()
    assert options == ["Any", str(factories.plan("s")), str(factories.plan("m")), str(factories.plan("l"))]
    assert not {"s", "m", "l"} & set(options)


def test_service_cards_say_what_is_true_after_suspend_and_delete(console, viewer, quiet):
    registry = registry_in(Phase.SUSPENDED, desired_state="suspended")
    registry.ingress.certificate_ready = True
    registry.ingress.record_check("ok", "Certificate issued.")
    registry.ingress.save()
    registry.cache.record_check("ok", "The managed Redis answers.")
    registry.cache.save()
    console.log_in(viewer.username)
    page = console.page
    console.go(f"/registries/{registry.pk}/")
    ingress, cache = page.locator("[data-service=ingress]"), page.locator("[data-service=cache]")
    expect(ingress.locator(".badge")).to_have_text("Not serving")
    expect(ingress).not_to_contain_text("Certificate\nready")
    expect(cache.locator(".badge")).to_have_text("Stopped")
    Registry.objects.filter(pk=registry.pk).update(
        phase=Phase.DELETED, desired_state="deleted", deleted_at=NOW()
    )
    console.go(f"/registries/{registry.pk}/")
    expect(ingress.locator(".badge")).to_have_text("Removed")
    expect(page.locator("[data-service=database] .badge")).to_have_text("Kept until purge")
    expect(page.locator("[data-service=storage] .badge")).to_have_text("Kept until purge")
    console.shot("fix-services-deleted")


@pytest.mark.prometheus
@pytest.mark.xdist_group("prometheus")
def test_chart_text_is_readable_on_a_phone(console, viewer, quiet, request):
    fleet = request.getfixturevalue("monitored_fleet")
    console.log_in(viewer.username)
    page = console.page
    page.set_viewport_size(PHONE)
    console.go(f"/monitoring/registries/{fleet.registry('hooli').pk}/")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chart-card text, .chart-card .chart-label')]
              .filter(el => el.getClientRects().length && getComputedStyle(el).display !== 'none')
              .map(el => {
                const size = parseFloat(getComputedStyle(el).fontSize);
                const svg = el.ownerSVGElement;
                return svg ? size * svg.getScreenCTM().a : size;
              })"""
    )
    assert sizes and min(sizes) >= 11, sorted(sizes)[:5]
    assert page.evaluate(FITS_THE_WIDTH)
    console.shot("fix-charts-phone")
    console.shot("fix-chart-phone-egress", "figure[data-chart=egress]")
    console.shot("fix-chart-phone-latency", "figure[data-chart=latency]")
