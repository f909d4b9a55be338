"""REST API v1 of the monitoring app."""
