"""``PROMETHEUS_RECORDING_RULES=auto`` (the default): the fleet reads the recording rules once Prometheus holds
their series, the raw counters otherwise, and never calls a registry Healthy on figures it does not have."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import yaml
from django.test import Client

from monitoring import queries, rules
from monitoring.localprom import LocalPrometheus, backfill_rules, copy_blocks
from monitoring.prometheus import capture_queries
from tests.fixtures.prometheus import (
    MonitoredFleet,
    PrometheusHistory,
    RulesPrometheus,
    clear_prometheus_cache,
)

pytestmark = [pytest.mark.prometheus, pytest.mark.xdist_group("prometheus")]


def settings_with(value: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_RECORDING_RULES"}
    if value is not None:
        env["PROMETHEUS_RECORDING_RULES"] = value
    code = "import harborconsole.settings as s; print(s.PROMETHEUS_RECORDING_RULES)"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_the_setting_defaults_to_auto_and_refuses_a_word_it_does_not_know() -> None:
    assert settings_with(None).stdout.strip() == "auto"
    refused = settings_with("maybe")
    assert refused.returncode != 0
    assert "PROMETHEUS_RECORDING_RULES='maybe' is not understood: use auto" in refused.stderr


def test_auto_reads_the_recorded_series_once_prometheus_holds_them(
    monitored_fleet: MonitoredFleet,
    prometheus_with_rules: RulesPrometheus,
    viewer_client: Client,
    settings,
) -> None:
    settings.PROMETHEUS_URL = prometheus_with_rules.url
    settings.PROMETHEUS_RECORDING_RULES = "auto"
    clear_prometheus_cache()
    with capture_queries() as sent:
        body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert body["metrics"]["status"] == "ok" and body["metrics"]["message"] == ""
    assert rules.probe_promql() in sent and len(sent) <= 12
    assert not any("rate(harbor_core_http_request" in q for q in sent), "no raw counter is rated"
    assert any(queries.ERRORS_RATE in q for q in sent)
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert health["globex"] == "Degraded" and health["acme"] == "Healthy"


def test_auto_without_the_rules_reads_the_raw_counters(
    monitored_fleet: MonitoredFleet, viewer_client: Client, settings
) -> None:
    settings.PROMETHEUS_RECORDING_RULES = "auto"  # the fixture's Prometheus holds no recorded series
    clear_prometheus_cache()
    with capture_queries() as sent:
        body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert body["metrics"]["status"] == "ok"
    assert "recording rules" not in body["metrics"]["message"]
    assert any("rate(harbor_core_http_request_total" in q for q in sent)
    assert not any(
        queries.ERRORS_RATE in q for q in sent if q != rules.probe_promql()
    )  # the probe names them
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert health["acme"] == "Healthy" and health["initech"] == "Down"


def test_auto_asks_again_once_a_page_finds_the_rules_gone(
    monitored_fleet: MonitoredFleet, viewer_client: Client, settings
) -> None:
    settings.PROMETHEUS_RECORDING_RULES = "auto"
    clear_prometheus_cache()
    rules._remember(True, 300)  # they were there a moment ago
    body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert "holds no series of the console's recording rules" in body["metrics"]["message"]
    assert health["acme"] == "Unknown"  # never Healthy without the figures
    assert rules.loaded() is False  # asked again: the next page reads the raw counters


def test_the_rules_file_is_written_where_prometheus_reads_it(tmp_path) -> None:
    from django.core.management import CommandError, call_command

    target = tmp_path / "harbor-console.rules.yml"
    call_command("monitoring_rules", write=str(target))
    assert target.read_text() == rules.rules_yaml()
    with pytest.raises(CommandError, match="is not a directory"):
        call_command("monitoring_rules", write=str(tmp_path / "missing" / "rules.yml"))


@pytest.fixture(scope="module")
def prometheus_with_older_rules(
    prometheus_history: PrometheusHistory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A Prometheus holding the rules file of an older console: every rule but the pods' readiness."""
    base = tmp_path_factory.mktemp("prometheus-older-rules")
    copy_blocks(prometheus_history.server.tsdb_dir, base / "tsdb")
    document = rules.rules_document()
    group = document["groups"][0]
    group["rules"] = [rule for rule in group["rules"] if rule["record"] != queries.PODS_NOT_READY]
    now = prometheus_history.history.now
    start = (now - 40 * 60) // 60 * 60
    backfill_rules(
        prometheus_history.url, yaml.safe_dump(document), start, now + 2 * 3600 - 120, base / "tsdb", base
    )
    server = LocalPrometheus(base / "tsdb", base)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_auto_reads_the_raw_counters_while_prometheus_lacks_one_of_the_rules(
    monitored_fleet: MonitoredFleet, prometheus_with_older_rules: str, viewer_client: Client, settings
) -> None:
    """A console upgraded before its rules file: reading a rule Prometheus does not evaluate would leave every
    pod count unknown; the raw series are read until the whole file is loaded."""
    settings.PROMETHEUS_URL = prometheus_with_older_rules
    settings.PROMETHEUS_RECORDING_RULES = "auto"
    clear_prometheus_cache()
    with capture_queries() as sent:
        body = viewer_client.get("/api/v1/monitoring/fleet/").json()
    assert body["metrics"]["status"] == "ok" and body["metrics"]["message"] == ""
    assert rules.probe_promql() in sent
    assert not any(queries.PODS_NOT_READY in q for q in sent if q != rules.probe_promql())
    assert any("kube_pod_status_ready{" in q for q in sent)
    health = {r["tenant"]: r["health"] for r in body["results"]}
    assert health["globex"] == "Degraded" and health["acme"] == "Healthy"
    assert all(r["pods_not_ready"] is not None for r in body["results"] if r["tenant"] == "acme")
