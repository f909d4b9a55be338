"""The webhook subscription resource: admins only, the secret never shown back, SSRF addresses refused, audited."""

from __future__ import annotations

import pytest

from provisioning.models import AuditEvent, WebhookSubscription
from tests.api.conftest import token_client
from tests.events.conftest import SECRET

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def body(**overrides):
    return {"name": "pipeline", "target_url": "http://127.0.0.1:9/hook", "secret": SECRET, **overrides}


def test_admin_creates_reads_changes_and_deletes_a_subscription(admin_user):
    api = token_client(admin_user)
    created = api.post(URL, body(event_types=["io.harbor-console.registry.created"]), format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert "secret" not in data and SECRET not in created.content.decode()
    assert data["owner"] == admin_user.username
    assert created["Location"] == data["url"]
    stored = WebhookSubscription.objects.get(pk=data["id"])
    assert stored.secret == SECRET

    assert SECRET not in api.get(URL).content.decode()
    changed = api.patch(data["url"], {"active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert api.delete(data["url"]).status_code == 204
    actions = list(
        AuditEvent.objects.filter(target_type="webhooksubscription").values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "delete", "update"]
    create_audit = AuditEvent.objects.get(target_type="webhooksubscription", action="create")
    assert SECRET not in str(create_audit.changes)


def test_the_secret_is_encrypted_at_rest(admin_user):
    from django.db import connection

    token_client(admin_user).post(URL, body(), format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM provisioning_webhooksubscription")
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and SECRET not in stored


@pytest.mark.parametrize(
    ("target_url", "says"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[fe80::1]/hook", "fe80::1"),
        ("http://metadata.google.internal/computeMetadata/v1/", "metadata"),
        ("ftp://127.0.0.1/hook", "http"),
        ("http://user:pw@127.0.0.1/hook", "credentials"),
        ("http://0.0.0.0:8000/hook", "0.0.0.0"),  # noqa: S104 - the address refused
    ],
)
def test_a_link_local_or_metadata_url_is_refused(admin_user, target_url, says):
    answer = token_client(admin_user).post(URL, body(target_url=target_url), format="json")
    assert answer.status_code == 400, answer.content
    assert says in answer.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_unknown_event_types_and_short_secrets_are_refused(admin_user):
    api = token_client(admin_user)
    answer = api.post(URL, body(event_types=["registry.exploded"], secret="short"), format="json")
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "event_types" in text and "secret" in text


@pytest.mark.parametrize("persona", ["anonymous", "stranger", "viewer", "operator"])
def test_only_admins_manage_webhooks(client_for, persona, admin_user):
    existing = WebhookSubscription.objects.create(name="x", target_url="http://127.0.0.1:9/", secret=SECRET)
    api = client_for(persona)
    expected = 401 if persona == "anonymous" else 403
    assert api.get(URL).status_code == expected
    assert api.post(URL, body(), format="json").status_code == expected
    assert api.get(f"{URL}{existing.pk}/deliveries/").status_code == expected
    assert api.delete(f"{URL}{existing.pk}/").status_code == expected
    assert WebhookSubscription.objects.count() == 1


def test_the_delivery_log_lists_attempts(admin_user, subscription, receiver, operator):
    from provisioning.events.delivery import deliver_due
    from tests import factories

    factories.registry(actor=operator)
    receiver.answers = [500]
    deliver_due(subscription.pk)
    answer = token_client(admin_user).get(f"{URL}{subscription.pk}/deliveries/")
    assert answer.status_code == 200
    [delivery] = answer.json()
    assert delivery["event_type"] == "io.harbor-console.registry.created" and delivery["state"] == "pending"
    assert delivery["attempt_log"][0]["status_code"] == 500
