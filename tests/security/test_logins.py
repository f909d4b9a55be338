"""Logins are throttled per account name and per client address, with a lockout that says the same for every name,
is shared by every web process (it lives in the database), expires by itself or is lifted by an administrator, and is
audited at every step. The API cannot be used to guess passwords or tokens instead."""

from __future__ import annotations

import base64
import subprocess
import sys
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from provisioning.models import ApiToken, AuditEvent, LoginThrottle
from tests.fixtures.celery_worker import worker_env

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-only"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 6
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 600
    settings.LOGIN_LOCKOUT_SECONDS = 600


def login(username: str, password: str, address: str = "192.0.2.10", path: str = "/login/", **extra):
    return Client(REMOTE_ADDR=address, **extra).post(path, {"username": username, "password": password})


def alert(response) -> str:
    return " ".join(str(error) for error in response.context["form"].non_field_errors())


def test_an_account_is_locked_after_the_limit_and_even_its_password_is_refused(viewer):
    for _ in range(3):
        assert login(viewer.username, "wrong").status_code == 200

    refused = login(viewer.username, PASSWORD)

    assert refused.status_code == 200 and "_auth_user_id" not in refused.client.session
    assert "Too many failed logins for this account name or from your address" in alert(refused)
    assert "about 10 minutes" in alert(refused)
    actions = list(
        AuditEvent.objects.filter(target_type="login").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["login_failed"] * 3 + ["login_locked", "login_refused_locked"]
    failed = AuditEvent.objects.filter(action="login_failed").latest("id")
    assert failed.target_repr == viewer.username and failed.changes["address"] == "192.0.2.10"
    assert PASSWORD not in str(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_the_answers_do_not_tell_whether_an_account_exists(viewer):
    answers: dict[str, tuple[list[str], str]] = {}
    for name in (viewer.username, "no-such-user"):
        failures = [alert(login(name, "wrong", address=f"198.51.100.{len(answers)}")) for _ in range(3)]
        locked = alert(login(name, "wrong", address=f"198.51.100.{len(answers)}"))
        answers[name] = (failures, locked)

    assert answers[viewer.username] == answers["no-such-user"]
    assert answers[viewer.username][0][0] == "Your user name and password did not match. Try again."


def test_one_address_guessing_many_accounts_is_locked_out(viewer):
    for n in range(6):
        login(f"guess-{n}", "wrong", address="203.0.113.7")

    refused = login(viewer.username, PASSWORD, address="203.0.113.7")
    elsewhere = login(viewer.username, PASSWORD, address="203.0.113.8")

    assert "Too many failed logins" in alert(refused)
    assert elsewhere.status_code == 302


def test_a_correct_login_clears_the_account_count_but_not_the_address_count(viewer):
    login(viewer.username, "wrong")
    login(viewer.username, "wrong")
    assert login(viewer.username, PASSWORD).status_code == 302

    assert not LoginThrottle.objects.filter(scope="account").exists()
    assert LoginThrottle.objects.get(scope="address").failures == 2


def test_the_lockout_expires_by_itself(viewer):
    for _ in range(3):
        login(viewer.username, "wrong")
    LoginThrottle.objects.update(locked_until=timezone.now() - timedelta(seconds=1))

    assert login(viewer.username, PASSWORD).status_code == 302


def test_an_administrator_lifts_a_lockout_from_the_command_line(viewer, capsys):
    for _ in range(3):
        login(viewer.username, "wrong")

    call_command("unlock_login", "--list")
    listed = capsys.readouterr().out
    call_command("unlock_login", "--account", viewer.username.upper())

    assert f"account {viewer.username} locked until" in listed
    assert login(viewer.username, PASSWORD).status_code == 302
    event = AuditEvent.objects.get(action="login_unlocked")
    assert event.via == "cli" and event.target_repr == viewer.username


def test_the_django_admin_login_is_throttled_the_same_way(admin_user):
    admin_user.is_staff = True
    admin_user.save()
    for _ in range(3):
        login(admin_user.username, "wrong", path="/admin/login/")

    refused = login(admin_user.username, PASSWORD, path="/admin/login/")

    assert refused.status_code == 200 and "Too many failed logins" in refused.content.decode()
    assert AuditEvent.objects.filter(action="login_failed").count() == 3


def test_behind_trusted_proxies_the_client_address_comes_from_x_forwarded_for(viewer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        login(f"guess-{n}", "wrong", address="10.9.9.9", HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.50")

    same_client = login(viewer.username, PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.50")
    other_client = login(viewer.username, PASSWORD, address="10.9.9.9", HTTP_X_FORWARDED_FOR="203.0.113.51")

    assert "Too many failed logins" in alert(same_client)
    assert other_client.status_code == 302


@pytest.mark.django_db(transaction=True)
def test_the_lockout_is_seen_by_another_process(viewer):
    for _ in range(3):
        login(viewer.username, "wrong")
    script = (
        "import django; django.setup(); from provisioning.services.logins import lockout; "
        f"print('locked' if lockout({viewer.username!r}, '192.0.2.99') else 'open')"
    )

    other = subprocess.run(
        [sys.executable, "-c", script],
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert other.stdout.strip() == "locked"


def test_the_api_takes_no_password_so_it_cannot_be_used_to_guess_one(viewer):
    basic = base64.b64encode(f"{viewer.username}:{PASSWORD}".encode()).decode()

    response = APIClient().get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Basic {basic}")

    assert response.status_code == 401


def test_guessing_tokens_locks_the_address_out_audited_and_a_valid_token_still_works(viewer):
    _, valid = ApiToken.issue(viewer, "real")
    client = APIClient(REMOTE_ADDR="192.0.2.66")
    answers = [client.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer hc_guess{n}") for n in range(8)]

    assert [answer.status_code for answer in answers] == [401] * 8
    assert "Retry-After" not in answers[4] and "unknown or revoked" in answers[4].json()["error"]["message"]
    for locked in answers[5:]:
        assert int(locked["Retry-After"]) > 0
        assert "Too many refused tokens from your address" in locked.json()["error"]["message"]
    assert AuditEvent.objects.filter(action="login_failed", changes__door__startswith="token").count() == 6
    assert AuditEvent.objects.filter(action="login_locked").count() == 1
    assert AuditEvent.objects.filter(action="login_refused_locked").count() == 2
    assert client.get("/api/v1/tenants/", HTTP_AUTHORIZATION=f"Bearer {valid}").status_code == 200
