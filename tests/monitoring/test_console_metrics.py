"""The console's own /metrics: who may read it, what it says, what it costs, and a real Prometheus scraping it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from monitoring import history
from monitoring.history import MINUTE, Tier
from monitoring.localprom import LocalPrometheus, backfill
from provisioning.choices import ErrorClass, Phase, RunStatus, RunTrigger
from provisioning.models import Cluster, Plan, ReconcileRun, Registry, Tenant
from tests import factories
from tests.monitoring.scale import add_registries

TOKEN = "metrics-token-for-tests-0123456789"
GiB = 1024**3


def scrape(client: Client, token: str | None = TOKEN) -> dict[str, list[tuple[dict[str, str], float]]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.content
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((sample.labels, sample.value))
    return out


@pytest.fixture
def token(settings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def test_anonymous_and_wrong_tokens_are_refused(db, token: str) -> None:
    client = Client()
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_logged_in_users_with_a_role_may_read_it(viewer, stranger, token: str) -> None:
    client = Client()
    client.force_login(viewer)
    assert client.get("/metrics").status_code == 200
    client.force_login(stranger)
    assert client.get("/metrics").status_code == 403


def test_without_a_configured_token_no_token_is_accepted(db, settings) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", headers={"Authorization": "Bearer "}).status_code == 401
    assert Client().get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 401


def test_metrics_describe_tenants_limits_runs_and_queues(db, token: str) -> None:
    cluster = factories.cluster(queue="eu-west")
    small = factories.registry(plan=factories.plan("s"), cluster=cluster)
    custom = factories.registry(
        plan=factories.plan("m"), cluster=cluster, storage_quota_gib=150, parallel_request_limit=60
    )
    large = factories.registry(plan=factories.plan("l"), cluster=cluster)
    Registry.objects.filter(pk=large.pk).update(phase=Phase.READY)
    ReconcileRun.objects.filter(registry__in=[small, custom, large]).delete()
    durations = {RunStatus.SUCCEEDED: [400.0, 800.0, 3000.0, 45000.0], RunStatus.FAILED: [700.0, 12000.0]}
    for status, values in durations.items():
        for ms in values:
            ReconcileRun.objects.create(
                registry=large,
                trigger=RunTrigger.SWEEP,
                status=status,
                duration_ms=ms,
                error_class=ErrorClass.API_UNAVAILABLE if status == RunStatus.FAILED else "",
            )
    ReconcileRun.objects.create(registry=small, trigger=RunTrigger.MANUAL, status=RunStatus.QUEUED)
    ReconcileRun.objects.create(registry=custom, trigger=RunTrigger.MANUAL, status=RunStatus.RUNNING)

    samples = scrape(Client())

    assert samples["harborconsole_tenants"] == [({}, float(Tenant.objects.count()))]
    registries = {(lab["plan"], lab["phase"]): v for lab, v in samples["harborconsole_registries"]}
    assert registries[("l", "Ready")] == 1 and registries[("s", "Pending")] >= 1
    limits = {lab["namespace"]: v for lab, v in samples["harborconsole_registry_storage_limit_bytes"]}
    assert limits[small.namespace] == 200 * GiB
    assert limits[custom.namespace] == 150 * GiB  # the registry's override, not the plan's 600 GiB
    assert limits[large.namespace] == 5120 * GiB
    parallel = {lab["namespace"]: v for lab, v in samples["harborconsole_registry_parallel_request_limit"]}
    assert (parallel[small.namespace], parallel[custom.namespace], parallel[large.namespace]) == (15, 60, 90)
    info = {lab["namespace"]: lab for lab, _ in samples["harborconsole_registry_info"]}
    assert info[large.namespace]["phase"] == "Ready" and info[large.namespace]["cluster"] == cluster.name

    runs = {
        (lab["status"], lab["error_class"]): v
        for lab, v in samples["harborconsole_reconcile_runs_finished_total"]
    }
    assert runs[("succeeded", "")] == 4 and runs[("failed", "API_UNAVAILABLE")] == 2
    assert ("queued", "") not in runs and ("running", "") not in runs  # open runs are the queue-depth gauge
    buckets = {
        (lab["status"], lab["le"]): v for lab, v in samples["harborconsole_reconcile_duration_seconds_bucket"]
    }
    for status, values in durations.items():
        for le in ("0.5", "1.0", "5.0", "30.0", "60.0", "+Inf"):
            bound = float(le)
            expected = sum(1 for ms in values if ms / 1000 <= bound)
            assert buckets[(status.value, le)] == expected, (status, le)
    sums = {lab["status"]: v for lab, v in samples["harborconsole_reconcile_duration_seconds_sum"]}
    assert sums["succeeded"] == pytest.approx(sum(durations[RunStatus.SUCCEEDED]) / 1000)
    depth = {(lab["queue"], lab["status"]): v for lab, v in samples["harborconsole_reconcile_queue_depth"]}
    assert depth[("eu-west", "queued")] >= 1 and depth[("eu-west", "running")] == 1
    assert "harborconsole_broker_queue_length" in samples  # the test broker is Redis


def test_metrics_cost_a_fixed_number_of_sql_queries(db, token: str) -> None:
    cluster = factories.cluster()
    add_registries(5, cluster, prefix="few")
    client = Client()
    client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    def cost() -> int:
        with CaptureQueriesContext(connection) as sql:
            scrape(client)
        return len(sql)

    few = cost()
    add_registries(150, cluster, prefix="many")
    many = cost()
    print(f"\n/metrics SQL queries: 5 registries {few}, 155 registries {many}")
    assert few == many <= 9


def test_finished_runs_counter_never_falls_when_the_history_is_pruned(db, token: str, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from provisioning.services.history import RUNS_KEPT_PER_REGISTRY, prune_history

    registry = factories.registry()
    ReconcileRun.objects.filter(registry=registry).delete()
    old = timezone.now() - timedelta(days=settings.RUN_RETENTION_DAYS + 5)
    outcomes = [(RunStatus.SUCCEEDED, "")] * 30 + [(RunStatus.FAILED, ErrorClass.API_CONFLICT)] * 6
    for n, (status, error_class) in enumerate(outcomes):
        ReconcileRun.objects.create(
            registry=registry, trigger=RunTrigger.SWEEP, status=status, error_class=error_class,
            requested_at=old + timedelta(minutes=n), finished_at=old + timedelta(minutes=n),
        )  # fmt: skip
    ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.MANUAL, status=RunStatus.QUEUED)
    client = Client()

    def finished() -> dict[tuple[str, str], float]:
        return {
            (lab["status"], lab["error_class"]): v
            for lab, v in scrape(client)["harborconsole_reconcile_runs_finished_total"]
        }

    before = finished()
    assert before == {("succeeded", ""): 30, ("failed", "API_CONFLICT"): 6}
    assert prune_history().runs == len(outcomes) + 1 - RUNS_KEPT_PER_REGISTRY
    assert ReconcileRun.objects.filter(registry=registry).count() == RUNS_KEPT_PER_REGISTRY
    assert finished() == before  # fewer rows, the same count
    ReconcileRun.objects.create(registry=registry, trigger=RunTrigger.SWEEP, status=RunStatus.FAILED)
    after = finished()
    assert after[("failed", "")] == 1 and all(after[key] >= value for key, value in before.items())


def test_each_registry_health_is_the_verdict_the_pages_show(db, token: str, settings) -> None:
    settings.PROMETHEUS_URL = ""  # no metrics: a Ready registry cannot be called Healthy
    cluster = factories.observed_cluster()
    ready = factories.registry(cluster=cluster)
    suspended = factories.registry(cluster=cluster)
    failed = factories.registry(cluster=factories.cluster())  # never contacted: its state is unknown
    Registry.objects.filter(pk=ready.pk).update(phase=Phase.READY)
    Registry.objects.filter(pk=suspended.pk).update(phase=Phase.SUSPENDED, desired_state="suspended")
    Registry.objects.filter(pk=failed.pk).update(phase=Phase.FAILED)
    samples = scrape(Client())
    health = {
        lab["namespace"]: lab["health"] for lab, v in samples["harborconsole_registry_health"] if v == 1
    }
    assert health[ready.namespace] == "Unknown"
    assert health[suspended.namespace] == "Other"
    assert health[failed.namespace] == "Unknown"
    api = Client()
    api.force_login(factories.user("viewer"))
    assert api.get(f"/api/v1/registries/{ready.pk}/").json()["health"]["state"] == health[ready.namespace]
    counts = {lab["health"]: v for lab, v in samples["harborconsole_registries_by_health"]}
    assert set(counts) == {"Healthy", "Degraded", "Down", "Unknown", "Provisioning", "Upgrading", "Other"}
    assert counts["Healthy"] == 0 and sum(counts.values()) == Registry.objects.live().count()


@pytest.mark.prometheus
@pytest.mark.django_db(transaction=True)
def test_a_real_prometheus_scrapes_it_and_compares_usage_with_limits(
    live_server, settings, tmp_path: Path
) -> None:
    settings.METRICS_TOKEN = TOKEN
    plan = Plan.objects.get(name="s")
    cluster = Cluster.objects.create(
        name=f"scrape-{factories.RUN}", api_url="http://127.0.0.1:1", simulated=True
    )
    namespaces = []
    for slug, override in (("alpha", None), ("beta", 80)):
        tenant = Tenant.objects.create(slug=f"{slug}{factories.RUN}", name=slug)
        registry = Registry.objects.create(
            tenant=tenant, name="main", plan=plan, cluster=cluster, hostname=f"{slug}.example.com",
            storage_quota_gib=override,
        )  # fmt: skip
        namespaces.append((registry.namespace, (override or plan.storage_quota_gib) * GiB))
    now = int(time.time())
    generated = history.generate(
        [history.TenantLoad(ns, plan="s", quota_bytes=limit, trivy=False) for ns, limit in namespaces],
        now,
        tiers=(Tier(-30 * MINUTE, 0, MINUTE),),  # only the past: the scraped samples land after it
        only=frozenset({"harbor_project_quota_usage_byte"}),
    )
    backfill(generated, tmp_path / "tsdb", tmp_path / "om")
    host = live_server.url.removeprefix("http://")
    server = LocalPrometheus(
        tmp_path / "tsdb",
        tmp_path,
        scrape_interval="1s",
        scrape_configs=[
            {
                "job_name": "harbor-console",
                "metrics_path": "/metrics",
                "authorization": {"type": "Bearer", "credentials": TOKEN},
                "static_configs": [{"targets": [host]}],
            }
        ],
    )
    server.start()
    try:
        query = (
            "sum by (namespace) (harbor_project_quota_usage_byte)"
            " / on (namespace) harborconsole_registry_storage_limit_bytes"
        )
        deadline = time.monotonic() + 20
        result: list = []
        while time.monotonic() < deadline and len(result) < 2:
            result = requests.get(f"{server.url}/api/v1/query", params={"query": query}, timeout=5).json()[
                "data"
            ]["result"]
            time.sleep(0.25)
        assert len(result) == 2, (server.log_path.read_text()[-2000:], result)
        for item in result:
            ns = item["metric"]["namespace"]
            at = float(item["value"][0])
            limit = dict(namespaces)[ns]
            used = 0.0
            for _labels, values in generated.select("harbor_project_quota_usage_byte", namespace=ns):
                latest = [
                    v for t, v in zip(generated.times, values, strict=True) if t <= at and t >= at - 300
                ]
                used += latest[-1]
            assert float(item["value"][1]) == pytest.approx(used / limit, rel=1e-12)
        up = requests.get(
            f"{server.url}/api/v1/query", params={"query": 'up{job="harbor-console"}'}, timeout=5
        )
        assert up.json()["data"]["result"][0]["value"][1] == "1"
    finally:
        server.stop()
