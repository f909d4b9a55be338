"""Viewsets of the REST API v1, one module per resource; thin: rules live on models and in services."""
