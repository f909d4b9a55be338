"""What Prometheus says of each registry's health: the signals :func:`provisioning.health.assess` combines.

:func:`read_signals` is the metrics reader the console's health verdict uses (setting ``HEALTH_METRICS_READER``);
the fleet overview asks the same queries in its own batch (:data:`SIGNAL_COLUMNS`), so both answer from one cache
entry and agree. In recording-rules mode one more query tells whether Prometheus holds the rules' series at all.
"""

from __future__ import annotations

from monitoring import queries, rules
from monitoring.prometheus import Batch, PrometheusSource
from provisioning.health import Health, MetricsReading, Signals

NEAR_QUOTA = 0.80  # storage share of the plan's limit from which a tenant is near its quota

STRIP = (
    Health.HEALTHY,
    Health.DEGRADED,
    Health.DOWN,
    Health.UNKNOWN,
    Health.PROVISIONING,
    Health.UPGRADING,
)

# signal → (catalogue query, period)
SIGNAL_COLUMNS: dict[str, tuple[str, str | None]] = {
    "health": ("health", None),
    "components_down": ("components_down", None),
    "pods_not_ready": ("pods_not_ready", None),
    "error_ratio": ("error_ratio", None),
    "mean_latency": ("mean_latency", None),
}
RULES_CHECK = "rules_missing"
RULES_MISSING = (
    "The console reads its recording rules (PROMETHEUS_RECORDING_RULES) but Prometheus holds no series of the "
    "console's recording rules: load the output of `manage.py monitoring_rules` into Prometheus (or turn the "
    "setting off). Until then the 5xx, latency and pods-not-ready figures are unknown and no registry is called "
    "Healthy."
)


def rules_check_promql() -> str:
    """1 when some recording rule has not one series (rules not loaded, or an older file), nothing otherwise."""
    return " or ".join(f"absent({record}{{{queries.FLEET_SELECTOR}}})" for record in queries.RECORDING_RULES)


def signal_promql(selector: str = queries.FLEET_SELECTOR, recorded: bool | None = None) -> dict[str, str]:
    """The PromQL of every signal for the registries ``selector`` chooses (plus the rules check in rules mode)."""
    use_rules = rules.enabled() if recorded is None else recorded
    out = {
        name: queries.get(key).promql(selector, period=period, recorded=use_rules)
        for name, (key, period) in SIGNAL_COLUMNS.items()
    }
    if use_rules:
        out[RULES_CHECK] = rules_check_promql()
    return out


def reading(batch: Batch) -> MetricsReading:
    """The signals of every namespace in ``batch`` (the answers to :func:`signal_promql`, maybe among others)."""
    if batch.status in ("unavailable", "unconfigured"):
        return MetricsReading(str(batch.status), batch.message)
    values = {
        name: batch[name].by() if batch[name].ok else {}
        for name in SIGNAL_COLUMNS
        if name != "components_down"
    }
    down: dict[str, list[str]] = {}
    components = batch["components_down"]
    for sample in components.samples if components.ok else []:
        down.setdefault(sample.labels.get("namespace", ""), []).append(sample.labels.get("component", "?"))
    namespaces = set(down).union(*values.values())
    signals = {}
    for ns in namespaces:
        signals[ns] = Signals(
            health=values["health"].get(ns),
            components_down=tuple(sorted(down.get(ns, ()))),
            pods_not_ready=values["pods_not_ready"].get(ns),
            error_ratio=values["error_ratio"].get(ns),
            mean_latency=values["mean_latency"].get(ns),
            present=frozenset(name for name, by_ns in values.items() if ns in by_ns),
        )
    missing_rules = ""
    if RULES_CHECK in batch.results and batch[RULES_CHECK].ok and batch[RULES_CHECK].samples:
        missing_rules = RULES_MISSING
        rules.forget()  # in auto mode the next page asks again, and reads the raw counters if they are gone
    return MetricsReading(
        str(batch.status),
        batch.message or missing_rules,
        signals,
        failed=frozenset(name for name in SIGNAL_COLUMNS if not batch[name].ok),
        missing_rules="recording rules not loaded" if missing_rules else "",
    )


def read_signals(namespaces: list[str], source: PrometheusSource | None = None) -> MetricsReading:
    """The health signals of ``namespaces``: fleet-wide queries (shared with the fleet overview's cache), or the
    one namespace's when only one is asked for."""
    source = source or PrometheusSource.from_settings()
    selector = queries.namespace_selector(namespaces[0]) if len(namespaces) == 1 else queries.FLEET_SELECTOR
    return reading(source.instant(signal_promql(selector)))
