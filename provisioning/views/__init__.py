"""Views of the provisioning app's web console."""
