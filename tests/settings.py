"""Test settings: the real PostgreSQL and Redis of the machine unless the environment says otherwise.

Each pytest-xdist worker gets its own Redis database (15, 14, … counting down from ``TEST_REDIS_BASE``) so Celery
queues and caches never mix between workers; pytest-django already gives each worker its own test database. Two
checkouts testing side by side on one machine give each its own ``DATABASE_URL`` name and ``TEST_REDIS_BASE``.
The installation id is random per test run unless ``INSTALLATION_ID`` is set, and each xdist worker adds its index:
workers share the PostgreSQL server and number their registries alike, so their shared-service names must differ.
"""

import os
import secrets
import sys

_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_index = int(_worker.removeprefix("gw") or 0) if _worker.startswith("gw") else 0
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/harborconsole")
os.environ.setdefault(
    "REDIS_URL", f"redis://127.0.0.1:6379/{int(os.environ.get('TEST_REDIS_BASE', '15')) - _index}"
)
_run_installation = os.environ.get("INSTALLATION_ID") or "t" + secrets.token_hex(4)
_run_installation = os.environ.setdefault("HC_TEST_INSTALLATION_ID", _run_installation)
os.environ["INSTALLATION_ID"] = f"{_run_installation[:11]}{_index}"
os.environ.setdefault(
    "HARBORCONSOLE_VAR_DIR",
    os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", f"test-{_worker}"),
)

from harborconsole.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests only

if "pytest" in sys.modules:
    # A second console's database on the same server, for the tests of two installations sharing one cluster
    # (``tests/engine/test_two_installations.py``); pytest-django creates it only for tests that ask for it.
    DATABASES["second"] = {  # noqa: F405
        **DATABASES["default"],  # noqa: F405
        "TEST": {"NAME": f"test_{DATABASES['default']['NAME']}_second"},  # noqa: F405
    }
PROMETHEUS_RECORDING_RULES = (
    "false"  # the suite's Prometheus holds no rules; tests of "auto" set it themselves
)
