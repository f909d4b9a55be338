"""The webhook pages: administrators list, create, edit and delete subscriptions and read the delivery log; the
secret is never rendered back; other roles are refused and see no Webhooks entry in the navigation."""

from __future__ import annotations

import pytest

from provisioning.events.delivery import deliver_due
from provisioning.models import AuditEvent, WebhookSubscription
from tests import factories
from tests.events.conftest import SECRET
from tests.ui.conftest import logged_in

pytestmark = pytest.mark.django_db


def form(**overrides):
    return {
        "name": "pipeline",
        "target_url": "http://127.0.0.1:9/hook",
        "secret": SECRET,
        "active": "on",
        **overrides,
    }


def test_an_admin_creates_edits_and_deletes_a_webhook(admin_user):
    client = logged_in(admin_user)
    assert b'href="/webhooks/"' in client.get("/").content
    created = client.post("/webhooks/new/", form(event_types=["io.harbor-console.registry.created"]))
    assert created.status_code == 302, created.content.decode()[:2000]
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == SECRET and subscription.owner == admin_user
    assert subscription.event_types == ["io.harbor-console.registry.created"]

    page = client.get(f"/webhooks/{subscription.pk}/edit/")
    assert page.status_code == 200 and SECRET not in page.content.decode()
    kept = client.post(f"/webhooks/{subscription.pk}/edit/", form(name="renamed", secret=""))
    assert kept.status_code == 302
    subscription.refresh_from_db()
    assert (
        subscription.name == "renamed" and subscription.secret == SECRET
    )  # an empty secret keeps the old one

    assert client.post(f"/webhooks/{subscription.pk}/delete/").status_code == 302
    assert not WebhookSubscription.objects.exists()
    actions = AuditEvent.objects.filter(target_type="webhooksubscription").values_list("action", flat=True)
    assert sorted(actions) == ["create", "delete", "update"]
    assert SECRET not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_a_metadata_address_is_refused_in_the_form_and_nothing_is_saved(admin_user):
    answer = logged_in(admin_user).post("/webhooks/new/", form(target_url="http://169.254.169.254/latest/"))
    assert answer.status_code == 400 and "169.254.169.254" in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_the_detail_page_shows_the_delivery_log(admin_user, subscription, receiver, operator):
    factories.registry(actor=operator)
    receiver.answers = [500]
    deliver_due(subscription.pk)
    page = logged_in(admin_user).get(f"/webhooks/{subscription.pk}/").content.decode()
    assert "registry.created" in page and "HTTP 500" in page and SECRET not in page


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_other_roles_are_refused(role):
    user = factories.user(role)
    existing = WebhookSubscription.objects.create(name="x", target_url="http://127.0.0.1:9/", secret=SECRET)
    client = logged_in(user)
    assert b'href="/webhooks/"' not in client.get("/").content
    for path in (
        "/webhooks/",
        "/webhooks/new/",
        f"/webhooks/{existing.pk}/",
        f"/webhooks/{existing.pk}/edit/",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/webhooks/{existing.pk}/delete/").status_code == 403
    assert WebhookSubscription.objects.filter(pk=existing.pk).exists()
