"""Fixtures of the upgrade tests: the API tests' token clients."""

from tests.api.conftest import admin_api, operator_api, registry, viewer_api  # noqa: F401
