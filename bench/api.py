"""REST API v1 at fleet scale: server time and SQL queries per call, through token authentication.

Builds a throw-away PostgreSQL database with N tenants (one registry each, with components, bindings, runs and
audit events), then calls the API's lists, a registry's detail and exports, and its writes through Django's test
client (no network: the server's share only). Writes run in a transaction that is rolled back, so nothing is
enqueued and every sample starts from the same state. The bulk operation over the whole fleet is timed the same
way (one request, its SQL queries), and the enqueue of its runs separately, to a throw-away Redis queue.

Run: ``.venv/bin/python bench/api.py [--tenants 1000] [--iterations 30]``. Prints medians and p95; asserts
nothing on time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("TEST_DATABASE_NAME", "bench_hc_api")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/8")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from provisioning.choices import ComponentKind, Phase, RunStatus, RunTrigger, Via, WhoseMove  # noqa: E402
from provisioning.models import (  # noqa: E402
    ApiToken,
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
    WebhookSubscription,
)

PHASES = (Phase.READY,) * 7 + (Phase.DEGRADED, Phase.FAILED, Phase.PROVISIONING)


def build_fleet(count: int) -> Registry:
    """``count`` (at least 2) tenants with one registry each; returns one registry with 30 managed resources."""
    cluster = Cluster.objects.create(
        name="bench", api_url="http://127.0.0.1:1", simulated=True, capacity=count + 100
    )  # room for the fleet and the registries the bench creates through the API
    plans = list(Plan.objects.order_by("storage_quota_gib"))
    tenants = Tenant.objects.bulk_create(Tenant(slug=f"bench{i}", name=f"Bench {i}") for i in range(count))
    failing = [
        {
            "type": "DependenciesReady",
            "status": "False",
            "reason": "DatabaseUnreachable",
            "message": "The database refused the connection.",
            "whose_move": WhoseMove.PROVIDER,
            "since": timezone.now().isoformat(),
        }
    ]
    registries = Registry.objects.bulk_create(
        Registry(
            tenant=tenant,
            name="main",
            plan=plans[i % len(plans)],
            cluster=cluster,
            harbor_version="2.14.4",
            hostname=f"main.{tenant.slug}.registry.example.com",
            namespace=f"harbor-{tenant.slug}-main",
            phase=PHASES[i % len(PHASES)],
            conditions=failing if PHASES[i % len(PHASES)] == Phase.DEGRADED else [],
        )
        for i, tenant in enumerate(tenants)
    )
    DatabaseBinding.objects.bulk_create(DatabaseBinding(registry=r) for r in registries)
    CacheBinding.objects.bulk_create(CacheBinding(registry=r) for r in registries)
    StorageBinding.objects.bulk_create(StorageBinding(registry=r) for r in registries)
    IngressBinding.objects.bulk_create(IngressBinding(registry=r) for r in registries)
    kinds = (ComponentKind.CORE, ComponentKind.PORTAL, ComponentKind.REGISTRY, ComponentKind.JOBSERVICE)
    Component.objects.bulk_create(Component(registry=r, kind=k) for r in registries for k in kinds)
    ReconcileRun.objects.bulk_create(
        ReconcileRun(registry=r, trigger=RunTrigger.SWEEP, status=RunStatus.SUCCEEDED, duration_ms=700.0)
        for r in registries
        for _ in range(3)
    )
    AuditEvent.objects.bulk_create(
        AuditEvent(actor_name="bench", via=Via.API, action="update", target_type="registry", registry=r)
        for r in registries
        for _ in range(3)
    )
    sample = registries[1]  # on the M plan, which allows 3 replicas
    ManagedResource.objects.bulk_create(
        ManagedResource(registry=sample, api_version="v1", kind="ConfigMap", name=f"cm-{i}")
        for i in range(30)
    )
    return sample


def measure(
    label: str, call: Callable[[], Any], expected: int, iterations: int, rollback: bool = False
) -> None:
    def once() -> float:
        started = time.perf_counter()
        if rollback:
            with transaction.atomic():
                response = call()
                transaction.set_rollback(True)
        else:
            response = call()
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == expected, (label, response.status_code, response.content[:200])
        return elapsed

    for _ in range(3):
        once()
    samples = sorted(once() for _ in range(iterations))
    with CaptureQueriesContext(connection) as sql:
        once()
    p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
    print(
        f"{label:<44} median {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
        f"SQL queries {len(sql.captured_queries):3d}"
    )


def bench_bulk(client: APIClient, count: int, iterations: int) -> None:
    """One bulk request over the whole fleet (with a webhook subscribed, so events and deliveries are written),
    then the enqueue of its runs over one broker connection to a throw-away queue."""
    import redis

    from provisioning.services.bulk import enqueue

    WebhookSubscription.objects.create(name="bench", target_url="http://127.0.0.1:9/", secret="s" * 16)
    bulks = {
        f"bulk reconcile, {count} registries (1 request)": {
            "action": "reconcile",
            "filters": {"cluster": "bench"},
        },
        f"bulk suspend, {count} registries (1 request)": {
            "action": "suspend",
            "filters": {"cluster": "bench"},
        },
        f"bulk upgrade, {count} registries (1 request)": {
            "action": "upgrade",
            "target_version": "2.15.2",
            "filters": {"cluster": "bench"},
        },
    }
    for label, payload in bulks.items():
        measure(
            label,
            lambda payload=payload: client.post("/api/v1/registries/bulk/", payload, format="json"),  # type: ignore[misc]
            202,
            iterations,
            rollback=True,
        )
    queue = f"bench-bulk-{os.getpid()}"
    runs = [(n, n, queue) for n in range(1, count + 1)]
    samples = []
    for _ in range(iterations):
        started = time.perf_counter()
        enqueue(runs)
        samples.append((time.perf_counter() - started) * 1000)
    redis.Redis.from_url(str(settings.CELERY_BROKER_URL)).delete(queue)
    label = f"fan-out: enqueue {count} reconcile tasks"
    print(f"{label:<44} median {statistics.median(samples):7.1f} ms   (in a worker, 1 broker connection)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
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
        operator = User.objects.create_user("bench-operator")
        operator.groups.add(Group.objects.get(name="operator"))
        _, raw = ApiToken.issue(operator, "bench")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        pk = sample.pk
        reads = {
            "registries, 50 per page": "/api/v1/registries/",
            "registries, 200 per page": "/api/v1/registries/?limit=200",
            "registries, page 15 of 50": "/api/v1/registries/?offset=700",
            "registries, search": "/api/v1/registries/?search=bench42",
            "registries, needs attention, by phase": "/api/v1/registries/?needs_attention=true&ordering=-phase",
            "registry detail (30 resources)": f"/api/v1/registries/{pk}/",
            "runs, 200 per page": "/api/v1/runs/?limit=200",
            "runs of one registry, succeeded": f"/api/v1/runs/?registry={pk}&status=succeeded",
            "audit events, 200 per page": "/api/v1/audit-events/?limit=200",
            "tenants, 200 per page": "/api/v1/tenants/?limit=200",
        }
        for label, path in reads.items():
            measure(label, lambda path=path: client.get(path), 200, args.iterations)  # type: ignore[misc]
        etag = client.get(f"/api/v1/registries/{pk}/")["ETag"]
        body = {
            "tenant": "bench1",
            "name": "second",
            "plan": "m",
            "cluster": "bench",
            "hostname": "second.bench1.registry.example.com",
        }
        writes: dict[str, tuple[Callable[[], Any], int]] = {
            "create registry (POST, Idempotency-Key)": (
                lambda: client.post("/api/v1/registries/", body, format="json", HTTP_IDEMPOTENCY_KEY="bench"),
                201,
            ),
            "change registry (PATCH, If-Match)": (
                lambda: client.patch(
                    f"/api/v1/registries/{pk}/", {"replicas": 3}, format="json", HTTP_IF_MATCH=etag
                ),
                200,
            ),
            "suspend (POST, If-Match, 202)": (
                lambda: client.post(f"/api/v1/registries/{pk}/suspend/", HTTP_IF_MATCH=etag),
                202,
            ),
        }
        for label, (call, expected) in writes.items():
            measure(label, call, expected, args.iterations, rollback=True)
        bench_bulk(client, args.tenants, max(3, args.iterations // 5))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
