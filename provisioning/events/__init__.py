"""Registry events for automation: CloudEvents 1.0, numbered per registry, sent to webhooks and an SSE stream.

Where they come from: :func:`provisioning.audit.record` reports every audited change of a registry
(:func:`hooks.registry_action`), the reconcile engine and the purge task report phase changes and finished runs
(:func:`hooks.phase_changed`, :func:`hooks.run_finished`). Each event is written in the transaction of its change
(:mod:`.emit`); after the commit it is appended to a bounded Redis stream (:mod:`.stream`, read by
``GET /api/v1/events/stream``) and its webhook deliveries are queued (:mod:`.delivery`, :mod:`.tasks`).
"""
