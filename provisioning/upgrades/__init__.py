"""Upgrades as an operation: pre-flight, Harbor's schema migration Job, components rolled in order with a
readiness gate each, a time budget, rollback while the schema is untouched; and waves of them across the fleet.

``operation`` starts, advances, resumes and rolls back one registry's upgrade; ``stage`` is the hook reconciliation
asks which components run the new version yet; ``waves`` and ``gate`` drive many upgrades batch after batch, each
batch gated on Prometheus.
"""
