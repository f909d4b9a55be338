"""Monitoring: Prometheus access, the query catalogue, monitoring views and API, the console's own metrics."""
