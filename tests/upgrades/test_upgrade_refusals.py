"""One truth for upgrade refusals: every entry point — the registry's API action, ``POST /api/v1/upgrades/``, the
step-by-step page, a bulk upgrade — refuses a path the catalogue forbids (400 ``upgrade_not_allowed`` on
target_version) and an upgrade already under way (409 ``upgrade_under_way``) with the reason, storing nothing. A
failing pre-flight is not a refusal: the halted upgrade is recorded so that its reasons can be read, and audited as
what happened — no ``registry.upgraded`` event tells subscribers of a version change that did not happen."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from provisioning.choices import Phase, RunStatus
from provisioning.models import AuditEvent, Event, ReconcileRun, Registry, Upgrade, UpgradeStatus
from provisioning.rendering.upgrade import MIGRATION
from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db

FROM, TO = "2.14.4", "2.15.2"
UPGRADED = "io.harbor-console.registry.upgraded"
Attempt = Callable[[Registry, str], tuple[int, str, str]]
"""Ask for an upgrade of the registry to the version: (status, error code, what the answer says)."""


def deployed() -> Registry:
    registry = factories.registry(harbor_version=FROM)
    Registry.objects.filter(pk=registry.pk).update(phase=Phase.READY, deployed_version=FROM)
    ReconcileRun.objects.filter(registry=registry).update(status=RunStatus.SUCCEEDED)
    registry.refresh_from_db()
    return registry


def through_the_registry_action(operator) -> Attempt:
    def attempt(registry: Registry, version: str) -> tuple[int, str, str]:
        answer = token_client(operator).post(
            f"/api/v1/registries/{registry.pk}/upgrade/", {"target_version": version}, format="json"
        )
        error = answer.json().get("error", {})
        return answer.status_code, error.get("code", ""), str(error)

    return attempt


def through_the_upgrades_endpoint(operator) -> Attempt:
    def attempt(registry: Registry, version: str) -> tuple[int, str, str]:
        answer = token_client(operator).post(
            "/api/v1/upgrades/", {"registry": registry.pk, "target_version": version}, format="json"
        )
        error = answer.json().get("error", {})
        return answer.status_code, error.get("code", ""), str(error)

    return attempt


def through_the_page(operator) -> Attempt:
    def attempt(registry: Registry, version: str) -> tuple[int, str, str]:
        client = Client()
        client.force_login(operator)
        answer = client.post(
            f"/registries/{registry.pk}/upgrade/", {"target_version": version, "budget_seconds": 600}
        )
        return answer.status_code, "", answer.content.decode()

    return attempt


def through_a_bulk_upgrade(operator) -> Attempt:
    def attempt(registry: Registry, version: str) -> tuple[int, str, str]:
        answer = token_client(operator).post(
            "/api/v1/registries/bulk/",
            {"action": "upgrade", "target_version": version, "ids": [registry.pk]},
            format="json",
        )
        [refusal] = answer.json()["refusals"]
        assert answer.json()["upgrades"] == answer.json()["runs"] == []
        return (
            {"upgrade_not_allowed": 400, "upgrade_under_way": 409}[refusal["code"]],
            refusal["code"],
            str(refusal),
        )

    return attempt


ENTRY_POINTS = {
    "registry action": through_the_registry_action,
    "upgrades endpoint": through_the_upgrades_endpoint,
    "step-by-step page": through_the_page,
    "bulk upgrade": through_a_bulk_upgrade,
}


def stored(registry: Registry) -> tuple[int, int, str, int]:
    registry.refresh_from_db()
    return (
        Upgrade.objects.filter(registry=registry).count(),
        AuditEvent.objects.filter(registry=registry).exclude(action="create").count(),
        registry.harbor_version,
        registry.generation,
    )


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
@pytest.mark.parametrize(
    ("version", "says"),
    [("2.13.0", "cannot be downgraded"), (FROM, "already runs"), ("2.16.9", "is not supported")],
)
def test_a_path_the_catalogue_forbids_is_refused_400_everywhere_and_nothing_is_stored(
    operator, entry_point, version, says
):
    registry = deployed()
    before = stored(registry)
    status, code, text = ENTRY_POINTS[entry_point](operator)(registry, version)
    assert status == 400, text
    assert code in ("upgrade_not_allowed", "") or (code == "invalid" and says == "is not supported"), text
    if says != "is not supported":  # an unknown version is refused by the request's validation, with the list
        assert says in text and code in ("upgrade_not_allowed", "")
    assert stored(registry) == before


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_an_upgrade_under_way_is_refused_409_everywhere_and_nothing_is_stored(operator, entry_point):
    registry = deployed()
    Upgrade.objects.create(registry=registry, from_version=FROM, to_version=TO, step=MIGRATION)
    before = stored(registry)
    status, code, text = ENTRY_POINTS[entry_point](operator)(registry, TO)
    assert status == 409, text
    assert code in ("upgrade_under_way", "") and "being upgraded step by step" in text
    assert stored(registry) == before


def test_the_upgrades_endpoint_names_the_field_and_the_code(operator):
    registry = deployed()
    answer = token_client(operator).post(
        "/api/v1/upgrades/", {"registry": registry.pk, "target_version": "2.13.0"}, format="json"
    )
    error = answer.json()["error"]
    assert answer.status_code == 400 and error["code"] == "upgrade_not_allowed"
    assert "cannot be downgraded" in error["fields"]["target_version"][0]


def test_a_failed_preflight_is_audited_as_halted_with_its_reason_and_sends_no_upgraded_event(operator):
    registry = factories.registry(harbor_version=FROM)  # not Ready, no backup marker: the pre-flight fails
    Registry.objects.filter(pk=registry.pk).update(deployed_version=FROM)
    answer = token_client(operator).post(
        "/api/v1/upgrades/", {"registry": registry.pk, "target_version": TO}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    upgrade = Upgrade.objects.get(pk=answer.json()["id"])
    assert upgrade.status == UpgradeStatus.HALTED and upgrade.step == "preflight"
    assert not Event.objects.filter(registry_id=registry.pk, type=UPGRADED).exists()
    assert not AuditEvent.objects.filter(registry=registry, action="upgrade").exists()
    audit = AuditEvent.objects.get(registry=registry, action="upgrade-halted")
    assert audit.actor == operator and audit.via == "api"
    assert audit.changes["upgrade"] == upgrade.pk and audit.changes["step"] == "preflight"
    assert audit.changes["reason"] == upgrade.reason and "not Ready" in audit.changes["reason"]
    assert audit.changes["to_version"] == TO
