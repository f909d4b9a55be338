"""Service functions: the rules for changing the fleet, shared by the web UI, the REST API and the command line."""
