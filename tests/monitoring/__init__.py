"""Tests of the monitoring app: Prometheus source, fleet, drill-down, business, /metrics, API."""
