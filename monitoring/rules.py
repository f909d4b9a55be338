"""Prometheus recording rules that make the fleet overview cheap on large fleets, and whether to read them.

Without them the overview's request, 5xx and latency columns rate every core pod's counters, and its pods-not-ready
signal reads every pod's readiness, on each cache miss; with them Prometheus keeps one pre-computed series per
namespace (:data:`monitoring.queries.RECORDING_RULES`). Install: ``manage.py monitoring_rules >
harbor-console.rules.yml`` (or ``--write PATH``), list that file under ``rule_files`` in Prometheus's
configuration. ``PROMETHEUS_RECORDING_RULES`` says whether to read them: ``auto`` (the default) reads them once
Prometheus holds the series of every rule (asked at most every :data:`PROBE_SECONDS`, and again as soon as a page
finds them gone), ``true`` always (a page then says when they are missing and calls nothing
Healthy on the figures they would give), ``false`` never.
"""

from __future__ import annotations

import logging
from typing import Any

import yaml
from django.conf import settings
from django.core.cache import cache

from monitoring.queries import RECORDING_RULES

log = logging.getLogger(__name__)

GROUP = "harbor-console-fleet"
INTERVAL = "1m"
PROBE_SECONDS = 300
"""How long the answer to "does Prometheus hold the rules' series?" is kept (auto mode)."""
UNANSWERED_SECONDS = 30
"""How long "Prometheus did not answer the probe" is kept: the raw counters are read meanwhile."""
_PROBE_KEY = "monitoring:prom:rules-loaded"  # cleared with the Prometheus answers
AUTO, ON, OFF = "auto", "on", "off"


def mode() -> str:
    """``auto``, ``on`` or ``off`` from the setting (a boolean or a word)."""
    value = settings.PROMETHEUS_RECORDING_RULES
    if isinstance(value, bool):
        return ON if value else OFF
    word = str(value).strip().lower()
    if word in ("1", "true", "yes", "on"):
        return ON
    if word in ("0", "false", "no", "off"):
        return OFF
    return AUTO


def enabled() -> bool:
    """Whether the fleet columns read the recording rules now (setting ``PROMETHEUS_RECORDING_RULES``)."""
    chosen = mode()
    return loaded() if chosen == AUTO else chosen == ON


def probe_promql() -> str:
    """A sample when Prometheus holds series of every rule, none otherwise (a rules file written by an older
    console lacks the newer rules: their figures would all be unknown)."""
    return " and ".join(f"count({record})" for record in RECORDING_RULES)


def loaded() -> bool:
    """Does Prometheus hold the series of the recording rules? Asked at most every :data:`PROBE_SECONDS`; no
    answer (Prometheus down or not configured) counts as no, so the raw counters are read."""
    try:
        known = cache.get(_PROBE_KEY)
    except Exception:  # noqa: BLE001 - a cache outage only costs the probe
        known = None
    if known is not None:
        return bool(known)
    from monitoring.prometheus import PrometheusSource

    source = PrometheusSource.from_settings()
    if not source.configured:
        return False
    result = source.instant({"rules": probe_promql()})["rules"]
    present = result.ok and bool(result.samples)
    _remember(present, PROBE_SECONDS if result.ok else UNANSWERED_SECONDS)
    return present


def forget() -> None:
    """Ask again on the next page (a page found the rules' series gone)."""
    _remember(None, 0)


def _remember(value: bool | None, seconds: int) -> None:
    try:
        if value is None:
            cache.delete(_PROBE_KEY)
        else:
            cache.set(_PROBE_KEY, value, timeout=seconds)
    except Exception:
        log.warning("could not keep whether the recording rules are loaded", exc_info=True)


def rules_document(interval: str = INTERVAL) -> dict[str, Any]:
    return {
        "groups": [
            {
                "name": GROUP,
                "interval": interval,
                "rules": [{"record": record, "expr": expr} for record, expr in RECORDING_RULES.items()],
            }
        ]
    }


def rules_yaml(interval: str = INTERVAL) -> str:
    header = "# Recording rules of Harbor Console's fleet overview (manage.py monitoring_rules).\n"
    return header + yaml.safe_dump(rules_document(interval), sort_keys=False, width=200)
