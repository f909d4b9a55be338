"""The one health verdict, as invariants over every phase × desired state × conditions × metrics × cluster.

Pure and fast: :func:`provisioning.health.assess` on unsaved registries, no database, no Prometheus.
"""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest

from provisioning.choices import ClusterHealth, DesiredState, Phase, WhoseMove
from provisioning.health import (
    REQUIRED_SIGNALS,
    ClusterView,
    Health,
    MetricsReading,
    Signals,
    Source,
    assess,
)
from provisioning.models import Registry
from provisioning.models.clusters import ClusterHealthView

NS = "harbor-acme-main"
ALL = frozenset({"health", "components_down", "pods_not_ready", "error_ratio", "mean_latency"})
SINCE = datetime(2026, 1, 1).isoformat()

CONDITIONS = {
    "none": [],
    "all-good": [
        {"type": "DependenciesReady", "status": "True", "reason": "AllReady", "message": "", "whose_move": ""},
        {"type": "Available", "status": "True", "reason": "AllComponentsAvailable", "message": ""},
        {"type": "Progressing", "status": "False", "reason": "RolloutComplete", "message": ""},
        {"type": "Degraded", "status": "False", "reason": "AsExpected", "message": ""},
    ],
    "database-down": [
        {"type": "DependenciesReady", "status": "False", "reason": "DependenciesFailing",
         "message": "Database: connection refused.", "whose_move": WhoseMove.PROVIDER, "since": SINCE},
        {"type": "Degraded", "status": "True", "reason": "DependenciesFailing",
         "message": "Database: connection refused.", "whose_move": WhoseMove.PROVIDER, "since": SINCE},
    ],
    "certificate-pending": [
        {"type": "DependenciesReady", "status": "False", "reason": "DependenciesPending",
         "message": "TLS: the certificate is being issued.", "whose_move": WhoseMove.TRANSIENT, "since": SINCE},
    ],
}  # fmt: skip

SIGNALS = {
    "healthy": Signals(1.0, (), 0.0, 0.001, 0.12, ALL),
    "core-down": Signals(0.0, ("core",), 2.0, None, None, ALL - {"error_ratio", "mean_latency"}),
    "trivy-down": Signals(1.0, ("trivy",), 0.0, 0.0, 0.1, ALL),
    "errors": Signals(1.0, (), 0.0, 0.12, 0.2, ALL),
    "slow": Signals(1.0, (), 0.0, 0.0, 3.5, ALL),
    "pods-not-ready": Signals(1.0, (), 1.0, 0.0, 0.1, ALL),
    "no-5xx-series": Signals(1.0, (), 0.0, None, None, ALL - {"error_ratio", "mean_latency"}),
    "no-series": None,
}
READINGS = {
    "ok": lambda signals: MetricsReading("ok", "", {NS: signals} if signals else {}),
    "error": lambda signals: MetricsReading(
        "error", "error_ratio: timeout", {NS: signals} if signals else {}, failed=frozenset({"error_ratio"})
    ),
    "unavailable": lambda signals: MetricsReading("unavailable", "Metrics unavailable: connection refused."),
    "unconfigured": lambda signals: MetricsReading("unconfigured", "Prometheus not configured."),
}
CLUSTERS = {
    ClusterHealth.HEALTHY: ClusterHealthView(ClusterHealth.HEALTHY, []),
    ClusterHealth.DEGRADED: ClusterHealthView(
        ClusterHealth.DEGRADED, ["ClusterIssuer letsencrypt is missing."]
    ),
    ClusterHealth.UNKNOWN: ClusterHealthView(ClusterHealth.UNKNOWN, ["Not contacted yet."]),
    ClusterHealth.UNREACHABLE: ClusterHealthView(ClusterHealth.UNREACHABLE, ["connection refused"]),
}
DESIRED = {
    Phase.PENDING: DesiredState.RUNNING,
    Phase.PROVISIONING: DesiredState.RUNNING,
    Phase.READY: DesiredState.RUNNING,
    Phase.DEGRADED: DesiredState.RUNNING,
    Phase.UPGRADING: DesiredState.RUNNING,
    Phase.FAILED: DesiredState.RUNNING,
    Phase.SUSPENDED: DesiredState.SUSPENDED,
    Phase.DELETING: DesiredState.DELETED,
    Phase.DELETED: DesiredState.DELETED,
}


def verdict_for(phase, conditions, signals, reading, cluster):
    registry = Registry(
        name="main",
        namespace=NS,
        phase=phase,
        desired_state=DESIRED[phase],
        conditions=CONDITIONS[conditions],
    )
    metrics = READINGS[reading](SIGNALS[signals])
    return assess(registry, metrics, ClusterView("emea-1", CLUSTERS[cluster])), metrics


MATRIX = list(itertools.product(DESIRED, CONDITIONS, SIGNALS, READINGS, CLUSTERS))


def test_the_matrix_is_large() -> None:
    assert len(MATRIX) == 9 * 4 * 8 * 4 * 4


@pytest.mark.parametrize("phase", list(DESIRED))
def test_invariants_over_the_whole_matrix(phase) -> None:
    for _, conditions, signals, reading, cluster in (m for m in MATRIX if m[0] == phase):
        case = (phase, conditions, signals, reading, cluster)
        verdict, metrics = verdict_for(*case)
        serving = phase in (Phase.READY, Phase.DEGRADED, Phase.FAILED)
        # Healthy only with every piece of evidence: readable metrics holding every required series, a
        # reachable cluster with its prerequisites, a Ready registry, nothing wrong anywhere.
        if verdict.health == Health.HEALTHY:
            assert phase == Phase.READY and reading in ("ok", "error") and cluster == ClusterHealth.HEALTHY, (
                case
            )
            held = SIGNALS[signals]
            assert held is not None and set(REQUIRED_SIGNALS) <= held.present, case
            assert not (set(REQUIRED_SIGNALS) & metrics.failed) or set(REQUIRED_SIGNALS) <= held.present, case
            assert verdict.reasons == (), case
        # Anything but Healthy, a phase of its own or "not serving" says why, and says whose move it is.
        if verdict.health in (Health.DEGRADED, Health.DOWN, Health.UNKNOWN):
            assert verdict.reasons, case
            for reason in verdict.reasons:
                assert reason.text.strip(), case
                if reason.source != Source.CONSOLE:
                    assert reason.whose_move == WhoseMove.PROVIDER, case
        # A cluster the console cannot see makes everything on it Unknown, never Ready or Degraded or Down.
        if cluster in (ClusterHealth.UNKNOWN, ClusterHealth.UNREACHABLE) and phase not in (
            Phase.SUSPENDED,
            Phase.DELETING,
            Phase.DELETED,
        ):
            assert verdict.health == Health.UNKNOWN, case
            assert verdict.reasons[0].source == Source.CLUSTER, case
        # Not expected to serve: no health claimed either way.
        if phase in (Phase.SUSPENDED, Phase.DELETING, Phase.DELETED):
            assert verdict.health == Health.OTHER and verdict.reasons == (), case
        if phase in (Phase.PENDING, Phase.PROVISIONING) and cluster not in (
            ClusterHealth.UNKNOWN,
            ClusterHealth.UNREACHABLE,
        ):
            assert verdict.health == Health.PROVISIONING, case
        if serving and cluster not in (ClusterHealth.UNKNOWN, ClusterHealth.UNREACHABLE):
            metrics_blind = reading in ("unavailable", "unconfigured") or signals in (
                "no-series",
                "no-5xx-series",
            )
            # Known trouble stays visible whatever else is missing: a failed reconciliation or a serving
            # component down is Down.
            if phase == Phase.FAILED or (signals == "core-down" and not metrics_blind_for_down(reading)):
                assert verdict.health == Health.DOWN, case
            # A Ready registry whose metrics cannot vouch for it is Unknown unless something else is wrong.
            elif metrics_blind and phase == Phase.READY and conditions != "database-down":
                if cluster == ClusterHealth.HEALTHY:
                    assert verdict.health == Health.UNKNOWN, case
                else:
                    assert verdict.health == Health.DEGRADED, case
            # Everything wrong is listed: the console's conditions, the metrics, the cluster.
            if conditions == "database-down" and verdict.health != Health.DOWN:
                assert verdict.health == Health.DEGRADED, case
            if metrics_blind:
                assert any(r.source == Source.METRICS for r in verdict.reasons), case


def metrics_blind_for_down(reading: str) -> bool:
    return reading in ("unavailable", "unconfigured")


@pytest.mark.parametrize(
    ("signals", "expected", "words"),
    [
        ("healthy", Health.HEALTHY, ""),
        ("core-down", Health.DOWN, "Harbor reports core down."),
        ("trivy-down", Health.DEGRADED, "Harbor reports trivy down."),
        ("errors", Health.DEGRADED, "12.0% of requests fail with 5xx."),
        ("slow", Health.DEGRADED, "Requests take 3.5 s on average."),
        ("pods-not-ready", Health.DEGRADED, "1 pod(s) not ready."),
        ("no-5xx-series", Health.UNKNOWN, "No figure for the 5xx ratio"),
        ("no-series", Health.UNKNOWN, f"Prometheus has no series for namespace {NS}"),
    ],
)
def test_what_each_signal_makes_of_a_ready_registry(signals, expected, words) -> None:
    verdict, _ = verdict_for(Phase.READY, "all-good", signals, "ok", ClusterHealth.HEALTHY)
    assert verdict.health == expected
    assert words in verdict.summary


def test_every_reason_is_listed_with_whose_move_not_only_the_first() -> None:
    verdict, _ = verdict_for(Phase.DEGRADED, "database-down", "errors", "ok", ClusterHealth.DEGRADED)
    assert verdict.health == Health.DEGRADED
    texts = [(r.source, r.whose_move) for r in verdict.reasons]
    assert (Source.CONSOLE, WhoseMove.PROVIDER) in texts
    assert (Source.METRICS, WhoseMove.PROVIDER) in texts
    assert (Source.CLUSTER, WhoseMove.PROVIDER) in texts
    assert "The console found the registry degraded." not in [r.text for r in verdict.reasons]


def test_a_transient_problem_of_a_ready_registry_is_not_a_degradation() -> None:
    verdict, _ = verdict_for(Phase.READY, "certificate-pending", "healthy", "ok", ClusterHealth.HEALTHY)
    assert verdict.health == Health.HEALTHY


def test_prometheus_unavailable_says_why_on_a_ready_registry() -> None:
    verdict, _ = verdict_for(Phase.READY, "all-good", "healthy", "unavailable", ClusterHealth.HEALTHY)
    assert verdict.health == Health.UNKNOWN
    assert verdict.summary == "Metrics unavailable: connection refused."


def test_an_unreachable_cluster_is_named_with_its_error() -> None:
    verdict, _ = verdict_for(Phase.READY, "all-good", "healthy", "ok", ClusterHealth.UNREACHABLE)
    assert verdict.health == Health.UNKNOWN
    assert verdict.summary == "Cluster emea-1 is unreachable: connection refused."
