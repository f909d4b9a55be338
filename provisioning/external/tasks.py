"""Celery tasks of the external services: periodic dependency checks."""
