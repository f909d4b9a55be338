"""Daily housekeeping: idempotency keys live 24 hours; reconcile runs live ``RUN_RETENTION_DAYS``, except each
registry's latest 20, runs still open and failures of the retention period."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings as django_settings
from django.utils import timezone

from provisioning.choices import RunStatus, RunTrigger
from provisioning.models import IdempotencyKey, ReconcileRun, Registry
from provisioning.services import history
from provisioning.tasks import prune_history
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def retention(settings):
    settings.RUN_RETENTION_DAYS = 30


def runs(registry: Registry, *ages_in_days: float, status: str = RunStatus.SUCCEEDED, finished_age=None):
    """Runs of ``registry`` requested ``ages_in_days`` ago, finished at once (or ``finished_age`` days ago)."""
    now = timezone.now()
    made = []
    for age in ages_in_days:
        requested = now - timedelta(days=age)
        finished = None
        if status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            finished = now - timedelta(days=finished_age) if finished_age is not None else requested
        made.append(
            ReconcileRun(
                registry=registry,
                trigger=RunTrigger.SWEEP,
                status=status,
                requested_at=requested,
                finished_at=finished,
            )
        )
    return [run.pk for run in ReconcileRun.objects.bulk_create(made)]


def remaining(registry: Registry) -> set[int]:
    return set(ReconcileRun.objects.filter(registry=registry).values_list("pk", flat=True))


@pytest.fixture
def registry():
    registry = factories.registry()
    ReconcileRun.objects.filter(registry=registry).delete()  # the creation's queued run
    return registry


def test_old_runs_go_but_each_registry_keeps_its_latest_twenty(registry):
    old = runs(registry, *range(40, 65))  # 25 runs, all past the retention period, newest first

    assert prune_history() == {"idempotency_keys": 0, "runs": 5, "events": 0}

    assert remaining(registry) == set(old[:20])


def test_a_registry_with_few_runs_keeps_them_all_however_old():
    quiet = factories.registry()
    kept = remaining(quiet) | set(runs(quiet, 100, 200, 300))
    prune_history()
    assert remaining(quiet) == kept


def test_runs_of_the_retention_period_stay_and_older_ones_go(registry):
    recent = runs(registry, *[day / 2 for day in range(1, 45)])  # 44 runs within the last 22 days
    old = runs(registry, 31, 45, 90)

    history.prune_history()

    assert remaining(registry) == set(recent)
    assert not ReconcileRun.objects.filter(pk__in=old).exists()


def test_open_runs_and_recent_failures_are_never_pruned(registry):
    runs(registry, *[day / 4 for day in range(1, 25)])  # the latest 24 runs, all recent
    queued = runs(registry, 60, status=RunStatus.QUEUED)
    running = runs(registry, 61, status=RunStatus.RUNNING)
    failed_lately = runs(registry, 62, status=RunStatus.FAILED, finished_age=5)
    failed_long_ago = runs(registry, 63, status=RunStatus.FAILED)

    history.prune_history()

    left = remaining(registry)
    assert set(queued + running + failed_lately) <= left
    assert not left & set(failed_long_ago)


def test_pruning_in_small_batches_deletes_the_same_runs(registry, monkeypatch):
    old = runs(registry, *range(40, 77))  # 37 runs
    monkeypatch.setattr(history, "BATCH_SIZE", 4)

    assert history.prune_history().runs == 17

    assert remaining(registry) == set(old[:20])


def test_the_retention_period_comes_from_the_setting(registry, settings):
    settings.RUN_RETENTION_DAYS = 90
    kept = runs(registry, *range(40, 65))
    history.prune_history()
    assert remaining(registry) == set(kept)


def test_idempotency_keys_live_twenty_four_hours(admin_user):
    def key(name: str, hours_ago: float) -> int:
        row = IdempotencyKey.objects.create(
            user=admin_user,
            key=name,
            method="POST",
            path="/api/v1/tenants/",
            request_digest="0" * 64,
            status_code=201,
        )
        IdempotencyKey.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - timedelta(hours=hours_ago)
        )
        return row.pk

    fresh, stale = key("fresh", 23), key("stale", 25)

    assert history.prune_history().idempotency_keys == 1

    assert set(IdempotencyKey.objects.values_list("pk", flat=True)) == {fresh}
    assert stale not in IdempotencyKey.objects.values_list("pk", flat=True)


def test_beat_runs_the_pruning_daily_with_an_expiry():
    entry: dict = django_settings.CELERY_BEAT_SCHEDULE["prune-history"]
    assert entry["task"] == prune_history.name and entry["task"] in current_app.tasks
    assert entry["schedule"] == timedelta(days=1)
    assert 0 < entry["options"]["expires"] < timedelta(days=1).total_seconds()
