"""Adapters to the provider's shared services (PostgreSQL, Redis, object storage); no Kubernetes in here."""
