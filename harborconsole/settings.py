"""Settings for Harbor Console, read from the environment through :class:`harborconsole.env.Env`.

With nothing set the console runs on embedded defaults (``HARBORCONSOLE_ENV=development``): SQLite, a filesystem
Celery broker and development-only keys. ``HARBORCONSOLE_ENV=production`` requires real keys and hosts and passes
``manage.py check --deploy``. The README's configuration reference lists every variable read here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from harborconsole.env import Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("HARBORCONSOLE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

ENVIRONMENT = env.str("HARBORCONSOLE_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"HARBORCONSOLE_ENV={ENVIRONMENT!r}: use development or production.")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = env.bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "DEBUG=true is refused in production (HARBORCONSOLE_ENV=production): it shows settings and stack traces "
        "to anyone. Unset DEBUG or set DEBUG=false."
    )

_DEV_SECRET_KEY = "development-only-secret-key-never-use-in-production-0123456789abcdef"
_DEV_FIELD_KEY = "ZGV2ZWxvcG1lbnQtb25seS1maWVsZC1rZXktMDAwMDA="  # base64 of 32 bytes, development only
SECRET_KEY = env.str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY is required in production: set SECRET_KEY or SECRET_KEY_FILE.")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", [] if PRODUCTION else [_DEV_FIELD_KEY])
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is required in production: one or more Fernet keys, comma-separated, newest "
        "first. Generate one with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'"
    )

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is required in production: the console's host names, comma-separated."
    )
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "provisioning",
    "monitoring",
]

MIDDLEWARE = [
    "harborconsole.tracing.TracingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "provisioning.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "provisioning.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "harborconsole.urls"
WSGI_APPLICATION = "harborconsole.wsgi.application"
ASGI_APPLICATION = "harborconsole.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "provisioning.context_processors.console",
            ],
        },
    },
]

DATABASE_URL = env.str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'harborconsole.sqlite3'}")
try:
    DATABASES = {
        "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env.int("DATABASE_CONN_MAX_AGE", 60))
    }
except ValueError as exc:
    raise ImproperlyConfigured(
        f"DATABASE_URL is not a database URL ({exc}): e.g. postgres://user:pw@host/db"
    ) from exc
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode shares one SQLite file between the web server, the worker and the scheduler.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
if env.raw("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.url("REDIS_URL", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Security: strict in production, relaxed only where plain-HTTP development needs it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", 12 * 3600, minimum=300)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "provisioning.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["provisioning.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "provisioning.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "DEFAULT_THROTTLE_CLASSES": ["provisioning.api.throttling.TokenRateThrottle"],
}
# Requests per API token (per user for a console session) before a 429 with Retry-After; empty turns it off.
API_RATE_LIMIT = env.str("API_RATE_LIMIT", "1200/min").strip()
if API_RATE_LIMIT and not re.fullmatch(r"[1-9][0-9]*/(s|sec|m|min|h|hour|d|day)", API_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"API_RATE_LIMIT={API_RATE_LIMIT!r}: give requests/period, e.g. 1200/min, or empty."
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Harbor Console API",
    "DESCRIPTION": "Provision, reconcile and monitor one Harbor registry per customer on Kubernetes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "provisioning.api.schema_hooks.postprocess",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CacheModeEnum": "provisioning.choices.CacheMode",
        "HarborVersionEnum": "provisioning.catalogue.SUPPORTED_VERSIONS",
        "RunStatusEnum": "provisioning.choices.RunStatus",
        "BindingStatusEnum": "provisioning.choices.BindingStatus",
        "TokenStateEnum": "provisioning.models.tokens.TOKEN_STATES",
        "TokenScopeEnum": "provisioning.models.tokens.TokenScope",
        "HealthEnum": "provisioning.health.HEALTH_CHOICES",
    },
}

# Celery: Redis when configured, otherwise an embedded filesystem broker (one machine only, for `make run`).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", 300, minimum=10)
SWEEP_BATCH_SIZE = env.int(
    "SWEEP_BATCH_SIZE", 20, minimum=1
)  # registries per sweep task (provisioning.tasks)
DEPENDENCY_CHECK_INTERVAL_SECONDS = env.int("DEPENDENCY_CHECK_INTERVAL_SECONDS", 600, minimum=30)
CELERY_IMPORTS = ["provisioning.external.tasks", "provisioning.events.tasks", "provisioning.services.bulk"]
CELERY_BEAT_SCHEDULE = {
    "fleet-sweep": {
        "task": "provisioning.tasks.sweep_fleet",
        "schedule": timedelta(seconds=SWEEP_INTERVAL_SECONDS),
        "options": {"expires": SWEEP_INTERVAL_SECONDS * 0.9},
    },
    "cluster-probe": {  # keeps clusters no reconciliation contacts (e.g. empty ones) known to placement
        "task": "provisioning.tasks.probe_clusters",
        "schedule": timedelta(seconds=SWEEP_INTERVAL_SECONDS),
        "options": {"expires": SWEEP_INTERVAL_SECONDS * 0.9},
    },
    "dependency-checks": {
        "task": "provisioning.external.check_all_dependencies",
        "schedule": timedelta(seconds=DEPENDENCY_CHECK_INTERVAL_SECONDS),
        "options": {"expires": DEPENDENCY_CHECK_INTERVAL_SECONDS * 0.9},
    },
    "prune-history": {
        "task": "provisioning.tasks.prune_history",
        "schedule": timedelta(days=1),
        "options": {"expires": 12 * 3600},
    },
}

# Reconciliation
RECONCILE_LOCK_TTL_SECONDS = env.int("RECONCILE_LOCK_TTL_SECONDS", 60, minimum=10)
RECONCILE_MAX_RETRIES = env.int("RECONCILE_MAX_RETRIES", 5, minimum=0)
RECONCILE_RETRY_BASE_SECONDS = env.int("RECONCILE_RETRY_BASE_SECONDS", 10, minimum=1)
KUBE_REQUEST_TIMEOUT_SECONDS = env.float("KUBE_REQUEST_TIMEOUT_SECONDS", 10.0)
KUBE_FIELD_MANAGER = "harbor-console"
CLUSTER_CHECK_TIMEOUT_SECONDS = env.float("CLUSTER_CHECK_TIMEOUT_SECONDS", 5.0)
QUEUE_CHECK_TIMEOUT_SECONDS = env.float("QUEUE_CHECK_TIMEOUT_SECONDS", 1.0)
INSTALLATION_ID = env.str("INSTALLATION_ID")
"""Only read when the database has no installation row yet (a first migration): see provisioning.models.installation."""
PURGE_RETENTION_DAYS = env.int("PURGE_RETENTION_DAYS", 30, minimum=0)
RUN_RETENTION_DAYS = env.int("RUN_RETENTION_DAYS", 30, minimum=1)
HARBOR_IMAGE_REGISTRY = env.str("HARBOR_IMAGE_REGISTRY", "docker.io/goharbor")

# Shared services used when a cluster record does not name its own (admin connections are secrets).
SHARED_DATABASE_ADMIN_URL = env.url("SHARED_DATABASE_ADMIN_URL", schemes=("postgres", "postgresql"))
SHARED_S3_ENDPOINT = env.url("SHARED_S3_ENDPOINT", schemes=("http", "https"))
SHARED_S3_REGION = env.str("SHARED_S3_REGION", "us-east-1")
SHARED_S3_ACCESS_KEY = env.str("SHARED_S3_ACCESS_KEY")
SHARED_S3_SECRET_KEY = env.str("SHARED_S3_SECRET_KEY")
SHARED_S3_IAM = env.bool("SHARED_S3_IAM", False)
EXTERNAL_CONNECT_TIMEOUT_SECONDS = env.int("EXTERNAL_CONNECT_TIMEOUT_SECONDS", 5, minimum=1)

# Monitoring
PROMETHEUS_URL = env.url("PROMETHEUS_URL", schemes=("http", "https"))
PROMETHEUS_TOKEN = env.str("PROMETHEUS_TOKEN")
PROMETHEUS_TIMEOUT_SECONDS = env.float("PROMETHEUS_TIMEOUT_SECONDS", 3.0)
PROMETHEUS_CACHE_SECONDS = env.int("PROMETHEUS_CACHE_SECONDS", 30, minimum=0)
PROMETHEUS_RECORDING_RULES = (
    env.str("PROMETHEUS_RECORDING_RULES", "auto").strip().lower()
)  # see monitoring.rules
if PROMETHEUS_RECORDING_RULES not in {"auto", "true", "false", "on", "off", "yes", "no", "1", "0"}:
    raise ImproperlyConfigured(
        f"PROMETHEUS_RECORDING_RULES={PROMETHEUS_RECORDING_RULES!r} is not understood: use auto (read the recording "
        "rules once Prometheus holds them), true or false."
    )
METRICS_TOKEN = env.str("METRICS_TOKEN")
HEALTH_METRICS_READER = "monitoring.health.read_signals"
"""How provisioning's health verdict reads Prometheus (see provisioning.health): the monitoring app's reader."""
LIVE_REFRESH_SECONDS = env.int("LIVE_REFRESH_SECONDS", 5, minimum=1)
WATCH_STALE_SECONDS = env.int("WATCH_STALE_SECONDS", 10, minimum=2)
"""How long the watch cache stays trusted without a sign of life from ``manage.py watch_clusters``."""
WATCH_COALESCE_SECONDS = env.float("WATCH_COALESCE_SECONDS", 1.0)
"""At most one watch-triggered reconcile per registry in this window (later changes are sent at its end)."""

# Tracing (harborconsole.tracing): OTLP/HTTP export only when an endpoint is given.
TRACING_OTLP_ENDPOINT = env.url("OTEL_EXPORTER_OTLP_ENDPOINT", schemes=("http", "https"))
TRACING_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", "harbor-console")
TRACING_TRACE_URL = env.url("TRACING_TRACE_URL", schemes=("http", "https"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Logins: failures counted per account name and per client address; lockout after the limit within the window.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", 900, minimum=1)
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0, minimum=0)
"""How many reverse proxies (ingress, load balancer) append to X-Forwarded-For before the console: the client
address is the entry that many places from the right. 0 uses the connection's address."""

# API tokens: lifetime chosen at creation (default, maximum).
API_TOKEN_DEFAULT_DAYS = env.int("API_TOKEN_DEFAULT_DAYS", 90, minimum=1)
API_TOKEN_MAX_DAYS = env.int("API_TOKEN_MAX_DAYS", 365, minimum=1)
if API_TOKEN_DEFAULT_DAYS > API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured(
        f"API_TOKEN_DEFAULT_DAYS={API_TOKEN_DEFAULT_DAYS} is above API_TOKEN_MAX_DAYS={API_TOKEN_MAX_DAYS}."
    )

# Events (issue #13): webhooks and the server-sent-events stream (see provisioning/events/).
CONSOLE_URL = env.url("CONSOLE_URL", schemes=("http", "https"))
"""The console's public URL: the ``source`` of its CloudEvents (with the installation id)."""
WEBHOOK_QUEUE = env.str("WEBHOOK_QUEUE", "default")
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", 8, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env.int("WEBHOOK_RETRY_BASE_SECONDS", 10, minimum=1)
WEBHOOK_TIMEOUT_SECONDS = env.int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
EVENT_STREAM_MAXLEN = env.int("EVENT_STREAM_MAXLEN", 10_000, minimum=100)
EVENT_STREAM_HEARTBEAT_SECONDS = env.int("EVENT_STREAM_HEARTBEAT_SECONDS", 15, minimum=1)
EVENT_STREAM_LIFETIME_SECONDS = env.int("EVENT_STREAM_LIFETIME_SECONDS", 300, minimum=5)
EVENT_STREAM_RETRY_MS = env.int("EVENT_STREAM_RETRY_MS", 2000, minimum=100)
