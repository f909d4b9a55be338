"""Provisioning: the model of each tenant's Harbor stack, its rendering, reconciliation and external services."""
