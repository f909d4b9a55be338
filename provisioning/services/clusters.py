"""Saving clusters, with their Kubernetes access and admin connections to the region's shared services checked
before they are kept.

A wrong kubeconfig, API URL, CA, PostgreSQL admin URL or S3 key would otherwise surface much later, as every new
registry of the cluster failing to provision. Each problem is reported on its field, saying what is wrong and what
to do; passwords and secret keys are never repeated back, neither in messages nor in the audit. The UI form and the
API both save through :func:`save_cluster`, so they check the same things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict

from provisioning import audit
from provisioning.external import connections
from provisioning.external.postgres import admin_url_problem
from provisioning.external.s3 import admin_problems
from provisioning.models import Cluster
from provisioning.services import cluster_checks

S3_FIELDS = {
    "endpoint": "s3_endpoint",
    "access_key": "s3_access_key",
    "secret_key": "s3_secret_key",
    "iam": "s3_iam",
}
AUDITED_EXCLUDE = ("id", "created_at", "updated_at")


def _snapshot(cluster: Cluster) -> dict[str, Any]:
    return {name: value for name, value in model_to_dict(cluster).items() if name not in AUDITED_EXCLUDE}


def _scrub(message: str, *secrets: str) -> str:
    for secret in secrets:
        if secret:
            message = message.replace(secret, "••••••")
    return message


DATABASE_FIELDS = ("database_admin_url",)
OBJECT_STORE_FIELDS = ("s3_endpoint", "s3_region", "s3_access_key", "s3_secret_key", "s3_iam")


def connection_problems(
    cluster: Cluster, *, database: bool = True, object_store: bool = True
) -> dict[str, str]:
    """Field name → what is wrong with the cluster's admin connections (syntax, reachability, privileges)."""
    timeout = connections.timeout_seconds()
    problems: dict[str, str] = {}
    if database and cluster.database_admin_url:
        problem = admin_url_problem(cluster.database_admin_url, timeout)
        if problem:
            problems["database_admin_url"] = problem
    if object_store:
        problems.update(_object_store_problems(cluster, timeout))
    secrets = (cluster.s3_secret_key, _password_of(cluster.database_admin_url))
    return {field: _scrub(message, *secrets) for field, message in problems.items()}


def _object_store_problems(cluster: Cluster, timeout: int) -> dict[str, str]:
    if not (cluster.s3_endpoint or cluster.s3_access_key or cluster.s3_secret_key):
        if cluster.s3_iam:
            return {"s3_iam": "IAM needs an S3 endpoint and admin keys: give them, or turn IAM off."}
        return {}
    problems: dict[str, str] = {}
    if not cluster.s3_endpoint:
        problems["s3_endpoint"] = "Give the S3 endpoint URL the keys belong to."
    admin = connections.S3Admin(
        endpoint=cluster.s3_endpoint,
        region=cluster.s3_region or "us-east-1",
        access_key=cluster.s3_access_key,
        secret_key=cluster.s3_secret_key,
        iam=cluster.s3_iam,
    )
    for name, message in admin_problems(admin, timeout).items():
        problems.setdefault(S3_FIELDS[name], message)
    return problems


def _password_of(url: str) -> str:
    userinfo = url.split("://", 1)[-1].rsplit("@", 1)[0] if "@" in url else ""
    return userinfo.split(":", 1)[1] if ":" in userinfo else ""


def _changed(cluster: Cluster, fields: tuple[str, ...]) -> bool:
    if cluster.pk is None:
        return True
    stored = Cluster.objects.filter(pk=cluster.pk).first()
    return stored is None or any(getattr(stored, name) != getattr(cluster, name) for name in fields)


@dataclass
class SavedCluster:
    """The saved cluster, and what the save found that did not stop it (shown to the person who saved)."""

    cluster: Cluster
    warnings: list[str] = field(default_factory=list)


def save_cluster(cluster: Cluster, *, actor: Any, via: str) -> SavedCluster:
    """Validate the cluster (model rules, its Kubernetes access, the admin connections it changes) and save it,
    audited, with what the API server answered recorded on the cluster's observation fields.

    The API server and the connections are tried only when their fields are new or changed, so an outage does not
    block an unrelated edit; a queue without a live worker is a warning. Raises ValidationError keyed by field name;
    nothing is saved then.
    """
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []
    try:
        cluster.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    access_changed = _changed(cluster, cluster_checks.ACCESS_FIELDS)
    if not set(cluster_checks.ACCESS_FIELDS) & set(errors) and (
        access_changed or _changed(cluster, cluster_checks.PREREQUISITE_FIELDS)
    ):
        check = cluster_checks.check_access(cluster, settings.CLUSTER_CHECK_TIMEOUT_SECONDS)
        for name, message in check.problems.items():
            if access_changed or name in cluster_checks.PREREQUISITE_FIELDS:
                errors.setdefault(name, []).append(message)
            else:  # an outage does not block a prerequisite edit: the next reconcile checks it again
                warnings.append(f"The cluster's prerequisites could not be checked: {message}")
                cluster.prerequisites_checked_at = None
        warnings += check.warnings
        if check.observation is not None:
            _observed(cluster, check.observation)
    if not {"database_admin_url", "s3_endpoint"} & set(errors):
        problems = connection_problems(
            cluster,
            database=_changed(cluster, DATABASE_FIELDS),
            object_store=_changed(cluster, OBJECT_STORE_FIELDS),
        )
        for field, message in problems.items():
            errors.setdefault(field, []).append(message)
    if errors:
        raise ValidationError(errors)
    if _changed(cluster, ("queue",)):
        warning = cluster_checks.queue_warning(cluster.queue, settings.QUEUE_CHECK_TIMEOUT_SECONDS)
        if warning:
            warnings.append(warning)
    with transaction.atomic():
        before: dict[str, Any] = {}
        if cluster.pk:
            stored = Cluster.objects.select_for_update().filter(pk=cluster.pk).first()
            before = _snapshot(stored) if stored else {}
        created = not before
        cluster.save()
        after = _snapshot(cluster)
        changes = after if created else audit.diff(before, after)
        if created or changes:
            audit.record(actor, via, "create" if created else "update", cluster, changes=changes)
    return SavedCluster(cluster, warnings)


def _observed(cluster: Cluster, observation: cluster_checks.ApiObservation) -> None:
    cluster.api_reachable = True
    cluster.api_version = observation.version[:32]
    cluster.api_latency_ms = observation.latency_ms
    cluster.last_contact_at = observation.at
    cluster.prerequisites, cluster.prerequisites_checked_at = observation.prerequisites, observation.at
