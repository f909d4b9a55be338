"""A real Celery worker drives an upgrade started from the API to its end: the task sends itself until it is done."""

from __future__ import annotations

import pytest

from provisioning.choices import Phase
from provisioning.models import Registry, Upgrade, UpgradeStatus
from tests import factories
from tests.api.conftest import token_client
from tests.engine.helpers import wait_for, wait_phase

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_worker_carries_an_upgrade_from_the_api_to_the_new_version(
    make_emulated_cluster, celery_worker, operator
):
    cluster = make_emulated_cluster(queue=celery_worker.queue, backup_marker="PITR, 7 days")
    registry = wait_phase(
        factories.registry(cluster=cluster, harbor_version="2.14.4"), Phase.READY, timeout=120
    )

    answer = token_client(operator).post(
        "/api/v1/upgrades/", {"registry": registry.pk, "target_version": "2.15.2"}, format="json"
    )
    assert answer.status_code == 201 and answer.json()["status"] == "running", answer.json()

    upgrade = Upgrade.objects.get(pk=answer.json()["id"])

    def finished() -> Upgrade | None:
        upgrade.refresh_from_db()
        return upgrade if not upgrade.is_open else None

    wait_for(finished, timeout=180, what="the worker to finish the upgrade")
    assert upgrade.status == UpgradeStatus.SUCCEEDED, upgrade.reason
    wait_for(
        lambda: Registry.objects.filter(
            pk=registry.pk, deployed_version="2.15.2", phase=Phase.READY
        ).exists(),
        timeout=120,
        what="the registry to run 2.15.2",
    )
