"""REST API v1 of the provisioning app."""
