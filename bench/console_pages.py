"""Web console pages at fleet scale: server time and SQL queries per page.

Builds a throw-away PostgreSQL database with N tenants (one registry each, with components, bindings, conditions
on every fifth, audit events and runs), then asks the list pages, a registry's page, its polled partials and a
manifest preview repeatedly through Django's test client (no network, no browser: the server's share only).
The live regions' polls are measured as a browser sends them, with the digest of what it shows: an unchanged
region answers 204 without a body.

Run: ``.venv/bin/python bench/console_pages.py [--tenants 1000] [--iterations 30]``. Prints medians and p95;
asserts nothing on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_hc_console_pages")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from provisioning.choices import ComponentKind, Phase, RunStatus, RunTrigger, Via, WhoseMove  # noqa: E402
from provisioning.models import (  # noqa: E402
    AuditEvent,
    CacheBinding,
    Cluster,
    Component,
    DatabaseBinding,
    IngressBinding,
    ManagedResource,
    Plan,
    ReconcileRun,
    Registry,
    StorageBinding,
    Tenant,
)
from provisioning.reconcile.redaction import redact  # noqa: E402
from provisioning.reconcile.spec import desired_objects  # noqa: E402
from provisioning.services.secrets import ensure_registry_secrets  # noqa: E402

PHASES = (Phase.READY,) * 6 + (Phase.DEGRADED, Phase.PROVISIONING, Phase.FAILED, Phase.SUSPENDED)


def conditions(index: int) -> list[dict[str, str]]:
    if index % 5:
        return []
    since = timezone.now().isoformat()
    return [
        {"type": "DependenciesReady", "status": "False", "reason": "DatabaseUnreachable", "since": since,
         "message": "The database at db.example:5432 refused the connection.", "whose_move": WhoseMove.PROVIDER},
    ]  # fmt: skip


def build_fleet(count: int) -> Registry:
    """``count`` tenants with one registry each; returns one whose stack was recorded as applied."""
    cluster = Cluster.objects.create(name="bench", api_url="http://127.0.0.1:1", simulated=True)
    plans = list(Plan.objects.order_by("storage_quota_gib"))
    tenants = Tenant.objects.bulk_create(Tenant(slug=f"bench{i}", name=f"Bench {i}") for i in range(count))
    registries = Registry.objects.bulk_create(
        Registry(
            tenant=tenant, name="main", plan=plans[i % len(plans)], cluster=cluster, harbor_version="2.14.4",
            hostname=f"main.{tenant.slug}.registry.example.com", namespace=f"harbor-{tenant.slug}-main",
            phase=PHASES[i % len(PHASES)], conditions=conditions(i), last_reconciled_at=timezone.now(),
        )
        for i, tenant in enumerate(tenants)
    )  # fmt: skip
    DatabaseBinding.objects.bulk_create(DatabaseBinding(registry=r) for r in registries)
    CacheBinding.objects.bulk_create(CacheBinding(registry=r) for r in registries)
    StorageBinding.objects.bulk_create(StorageBinding(registry=r) for r in registries)
    IngressBinding.objects.bulk_create(IngressBinding(registry=r) for r in registries)
    DatabaseBinding.objects.update(host="db.example", name="registry", username="harbor", password="x" * 24)
    StorageBinding.objects.update(bucket="bench", access_key="a", secret_key="s")
    Component.objects.bulk_create(
        Component(registry=r, kind=kind, desired_replicas=2, ready_replicas=2, available=True)
        for r in registries
        for kind in (
            ComponentKind.CORE,
            ComponentKind.PORTAL,
            ComponentKind.REGISTRY,
            ComponentKind.JOBSERVICE,
        )
    )
    ReconcileRun.objects.bulk_create(
        ReconcileRun(registry=r, trigger=RunTrigger.SWEEP, status=RunStatus.SUCCEEDED, duration_ms=800.0)
        for r in registries
        for _ in range(3)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_name="bench", via=Via.API, action="update", target_type="registry",
                   target_id=str(r.pk), target_repr=str(r.pk), registry=r, changes={"replicas": [1, 2]})
        for r in registries
        for _ in range(3)
    )  # fmt: skip
    sample = Registry.objects.select_related("tenant", "plan", "cluster", "cache", "database", "storage").get(
        pk=registries[0].pk
    )
    ensure_registry_secrets(sample)
    sample.cache.password = "bench-cache-password"
    sample.cache.save()
    ManagedResource.objects.bulk_create(
        ManagedResource(registry=sample, api_version=obj["apiVersion"], kind=obj["kind"], name=obj["metadata"]["name"],
                        namespace=obj["metadata"].get("namespace", ""), manifest=redact(obj))
        for obj in desired_objects(sample)
    )  # fmt: skip
    return sample


def poll_headers(client: Client, path: str, region: str) -> dict[str, str]:
    """The headers of a live region's poll: htmx's, and the digest of the content the page shows now."""
    body = client.get(path, headers={"HX-Request": "true", "HX-Target": region}).content.decode()
    digest = body.split('"X-Live-Digest": "')[1].split('"')[0]
    return {"HX-Request": "true", "HX-Trigger": region, "HX-Target": region, "X-Live-Digest": digest}


def measure(
    client: Client,
    label: str,
    path: str,
    iterations: int,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    status: int = 200,
) -> None:
    def ask() -> int:
        if data is not None:
            return client.post(path, data).status_code
        return client.get(path, headers=headers or {}).status_code

    def once() -> float:
        started = time.perf_counter()
        answered = ask()
        elapsed = (time.perf_counter() - started) * 1000
        assert answered == status, (path, answered)
        return elapsed

    for _ in range(3):
        once()
    samples = sorted(once() for _ in range(iterations))
    with CaptureQueriesContext(connection) as sql:
        ask()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"{label:<38} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
        f"SQL queries {len(sql.captured_queries):3d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()

    setup_test_environment()
    settings.DEBUG = False
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        started = time.perf_counter()
        sample = build_fleet(args.tenants)
        print(f"{args.tenants} tenants and registries; set up in {time.perf_counter() - started:.1f} s")
        operator = User.objects.create_user("bench-operator", password="x")
        operator.groups.add(Group.objects.get(name="operator"))
        client = Client()
        client.force_login(operator)
        pk = sample.pk
        pages = {
            "tenants": "/tenants/",
            "registries": "/registries/",
            "registries, search": "/registries/?search=bench42",
            "registries, degraded, by phase": "/registries/?needs_attention=true&sort=-phase",
            "registries, page 20": "/registries/?page=20",
            "audit log": "/audit/",
            "registry page": f"/registries/{pk}/",
            "fleet overview (no Prometheus)": "/",
            "registry status (polled)": f"/registries/{pk}/status/",
            "registry activity (polled)": f"/registries/{pk}/activity/",
        }
        for label, path in pages.items():
            measure(client, label, path, args.iterations)
        polls = {
            "registry live region, unchanged (204)": (f"/registries/{pk}/status/", "registry-live"),
            "registries list, unchanged (204)": ("/registries/", "results"),
            "fleet overview live, unchanged (204)": ("/", "fleet-live"),
        }
        for label, (path, region) in polls.items():
            headers = poll_headers(client, path, region)
            measure(client, label, path, args.iterations, headers=headers, status=204)
        edit = {
            "plan": str(sample.plan_id),
            "hostname": sample.hostname,
            "trivy_enabled": "true",
            "preview": "1",
        }
        measure(client, "manifest preview (POST)", f"/registries/{pk}/edit/", args.iterations, edit)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
