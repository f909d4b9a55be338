"""Recording rules for large fleets: valid for promtool, and the fleet overview reads them when told to,
showing the same figures (as of the rules' last evaluation) with the same number of queries."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from monitoring import queries
from monitoring.localprom import binary
from monitoring.prometheus import capture_queries
from tests.fixtures.prometheus import MonitoredFleet, RulesPrometheus, clear_prometheus_cache
from tests.monitoring import promql_model as pm

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]


def test_the_rules_file_is_valid_for_promtool(tmp_path: Path, capsys) -> None:
    call_command("monitoring_rules")
    path = tmp_path / "rules.yml"
    path.write_text(capsys.readouterr().out)
    result = subprocess.run([binary("promtool"), "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries.RECORDING_RULES)} rules found" in result.stdout


def test_fleet_reads_the_recorded_series_when_rules_are_installed(
    monitored_fleet: MonitoredFleet,
    prometheus_with_rules: RulesPrometheus,
    model: pm.Model,
    viewer_client: Client,
    settings,
) -> None:
    settings.PROMETHEUS_URL = prometheus_with_rules.url
    settings.PROMETHEUS_RECORDING_RULES = True
    clear_prometheus_cache()
    with capture_queries() as sent:
        body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert body["metrics"]["status"] == "ok" and body["metrics"]["message"] == ""
    assert (
        len(sent) == 10
    )  # 9 figures (which namespaces have young projects: none, so no range query), the check
    assert not any("rate(harbor_core_http_request" in q for q in sent), "no raw counter is rated any more"
    assert not any("kube_pod_status_ready{" in q for q in sent), "no pod's readiness is read any more"
    assert any(queries.ERRORS_RATE in q for q in sent) and any(queries.DURATION_SUM_RATE in q for q in sent)
    assert any(queries.PODS_NOT_READY in q for q in sent)
    at = prometheus_with_rules.rule_time(body["metrics"]["evaluated_at"])
    for row in body["results"]:
        ns = row["namespace"]
        assert pm.close(row["error_ratio"], pm.error_ratio(model, ns, at)), ns
        assert pm.close(row["mean_latency_seconds"], pm.mean_latency(model, ns, at)), ns
        assert pm.close(row["pods_not_ready"], pm.pods_not_ready(model, ns, at)), ns
        assert pm.close(
            row["storage_used_bytes"], pm.storage_used(model, ns, body["metrics"]["evaluated_at"])
        )
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert health["globex"] == "Degraded" and health["acme"] == "Healthy"


def test_rules_mode_without_the_rules_loaded_says_so_and_calls_nothing_healthy(
    monitored_fleet: MonitoredFleet, viewer_client: Client, settings
) -> None:
    settings.PROMETHEUS_RECORDING_RULES = True  # the fixture's Prometheus holds no recorded series
    clear_prometheus_cache()
    body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert "holds no series of the console's recording rules" in body["metrics"]["message"]
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert "Healthy" not in health.values()
    assert health["acme"] == "Unknown" and health["cyberdyne"] == "Unknown"
    acme = next(r for r in body["results"] if r["tenant"] == "acme")
    assert "recording rules not loaded" in acme["reasons"][0]["text"]
    assert health["initech"] == "Down"  # what is known to be wrong still shows
    html = viewer_client.get("/monitoring/").content.decode()
    assert "data-rules-missing" in html and "monitoring_rules" in html
    unknown = sum(1 for h in health.values() if h == "Unknown")
    assert unknown == body["health"]["Unknown"] >= 5
    assert f'data-health="Unknown" data-count="{unknown}"' in html


def test_without_the_setting_the_raw_counters_are_read(monitored_fleet: MonitoredFleet, settings) -> None:
    from monitoring.fleet import fleet_promql

    settings.PROMETHEUS_RECORDING_RULES = False
    assert "rate(harbor_core_http_request_total" in fleet_promql()["error_ratio"]
    settings.PROMETHEUS_RECORDING_RULES = True
    assert queries.ERRORS_RATE in fleet_promql()["error_ratio"]
