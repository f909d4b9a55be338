"""Celery tasks of the provisioning app. They take ids, re-read rows and tolerate a row that is gone."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="provisioning.tasks.reconcile_registry", acks_late=True)
def reconcile_registry(registry_id: int, run_id: int | None = None) -> None:
    raise NotImplementedError("The reconciler lands with the provisioning engine.")


@shared_task(name="provisioning.tasks.purge_registry", acks_late=True)
def purge_registry(registry_id: int, run_id: int | None = None) -> None:
    raise NotImplementedError("Purging lands with the external services.")


@shared_task(name="provisioning.tasks.sweep_fleet", acks_late=True)
def sweep_fleet() -> None:
    raise NotImplementedError("The fleet sweep lands with the provisioning engine.")
