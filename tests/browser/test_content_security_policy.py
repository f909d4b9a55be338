"""Every main page carries a Content-Security-Policy without inline script, and works under it: Chromium reports
no violation and no console error on any of them, htmx (live regions, filters, the monitoring panel) included."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from provisioning.choices import Phase
from provisioning.csp import HEADER
from provisioning.models import Registry
from provisioning.services import registries as registry_services
from tests import factories
from tests.fixtures.browser import BROWSER_DB

pytestmark = [pytest.mark.browser, BROWSER_DB]

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || ''));
});
"""


def pages(registry: Registry, cluster_pk: int) -> list[str]:
    return [
        "/",
        "/monitoring/business/",
        f"/monitoring/registries/{registry.pk}/",
        "/tenants/",
        f"/tenants/{registry.tenant_id}/",
        "/tenants/new/",
        "/registries/",
        "/registries/new/",
        f"/registries/{registry.pk}/",
        f"/registries/{registry.pk}/edit/",
        f"/registries/{registry.pk}/actions/delete/",
        f"/registries/{registry.pk}/actions/upgrade/",
        "/clusters/",
        f"/clusters/{cluster_pk}/",
        "/clusters/new/",
        "/plans/",
        "/audit/",
        "/account/",
        "/api/docs/",
        "/admin/",
        "/no-such-page/",
    ]


def test_every_main_page_runs_under_the_policy_without_a_violation(
    console, admin_user, monkeypatch, settings
):
    settings.LIVE_REFRESH_SECONDS = 1  # let the live regions poll during the visit
    monkeypatch.setattr(registry_services, "enqueue_run", lambda *args: None)
    cluster = factories.observed_cluster()
    registry = factories.registry(cluster=cluster)
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY)
    page = console.page
    page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    console.log_in(admin_user.username)

    for path in pages(registry, cluster.pk):
        response = console.go(path)
        policy = response.headers.get(HEADER.lower(), "")
        assert (
            "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        ), path
        if path in ("/", "/registries/", f"/registries/{registry.pk}/"):
            page.wait_for_timeout(2500)  # two polls of the live regions
        if path == "/api/docs/":
            expect(page.locator(".swagger-ui .info")).to_be_visible()
        violations = page.evaluate("window.__violations")
        assert violations == [], (path, violations)
        real_errors = [e for e in errors if "404 (Not Found)" not in e or path != "/no-such-page/"]
        assert real_errors == [], (path, real_errors)
        errors.clear()

    console.go("/registries/")  # htmx under the policy: the search filters in place
    page.get_by_label("Search").fill(registry.name)
    page.wait_for_url(f"**search={registry.name}**")
    assert page.evaluate("window.__violations") == [] and errors == []
