"""Hangar settings, all read from the environment.

With no variables at all Hangar runs in its embedded default: SQLite, local-memory cache, the
in-memory channel layer and a Celery worker inside the server process. Setting
``ENVIRONMENT=production`` turns on production mode, which refuses to start without
``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

import base64
import hashlib
import os
import secrets
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
ENVIRONMENT = env.str("ENVIRONMENT", default="development")
PRODUCTION = ENVIRONMENT == "production"
VERSION = "1.0.0"

REQUIRED_IN_PRODUCTION = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS")
if PRODUCTION:
    missing = [name for name in REQUIRED_IN_PRODUCTION if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured("Production mode needs these environment variables: " + ", ".join(missing))

DEBUG = env.bool("DEBUG", default=False)


def _local_secret_key() -> str:
    """A random key made on this machine's first start and kept in var/: a key committed to the
    repository would let anyone sign tokens for any Hangar left on its defaults."""
    path = VAR_DIR / "secret_key"
    VAR_DIR.mkdir(exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
FRONTEND_URL = env.str("FRONTEND_URL", default="/")
PUBLIC_URL = env.str("PUBLIC_URL", default="http://localhost:8000")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "apps.core",
    "apps.accounts",
    "apps.activity",
    "apps.runtime",
    "apps.workspaces",
    "apps.environments",
    "apps.notebooks",
    "apps.builds",
    "apps.deployments",
    "apps.datasets",
    "apps.jobs",
    "apps.credits",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.JsonErrorMiddleware",
    "apps.core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.accounts.middleware.JWTCookieRefreshMiddleware",
    "apps.core.ratelimit.RateLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
SITE_ID = 1

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
                "apps.accounts.context_processors.hangar_user",
            ],
        },
    },
]

# --- Data stores -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded worker writes while requests do: take the write lock at BEGIN and wait for it,
    # instead of failing with "database is locked" when a read transaction needs to write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(transaction_mode="IMMEDIATE", timeout=20)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# Parallel test workers share one Redis database; a per-worker prefix keeps their keys apart.
REDIS_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="hangar") + env.str("PYTEST_XDIST_WORKER", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_KEY_PREFIX,
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_KEY_PREFIX}:asgi"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "apps.core.channel_layers.ThreadSafeInMemoryChannelLayer"}}

# --- Celery ------------------------------------------------------------------------------------
# Embedded mode: the in-memory transport, consumed by a worker thread inside the server process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# JSON, e.g. the filesystem transport's data folders or a Redis global_keyprefix (tests use both).
CELERY_BROKER_TRANSPORT_OPTIONS = env.json("CELERY_BROKER_TRANSPORT_OPTIONS", default={})
if CELERY_BROKER_URL == "memory://" and not CELERY_BROKER_TRANSPORT_OPTIONS:
    # kombu polls the in-memory queue once a second by default, which users feel on every start.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"polling_interval": 0.01}
CELERY_EMBEDDED_WORKER = env.bool("CELERY_EMBEDDED_WORKER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BEAT_SCHEDULE = {
    "flush-expired-tokens": {
        "task": "apps.accounts.tasks.flush_expired_tokens",
        "schedule": env.float("TOKEN_FLUSH_INTERVAL_SECONDS", default=6 * 3600),
    },
    "stop-idle-code-sessions": {
        "task": "apps.workspaces.tasks.stop_idle_sessions",
        "schedule": env.float("SESSION_IDLE_CHECK_SECONDS", default=60),
    },
    "reconcile-environments": {
        "task": "apps.environments.tasks.reconcile_environments",
        "schedule": env.float("ENVIRONMENT_RECONCILE_INTERVAL_SECONDS", default=30),
    },
    "reconcile-pipelines": {
        "task": "apps.deployments.tasks_pipelines.reconcile_pipelines",
        "schedule": env.float("PIPELINE_RECONCILE_INTERVAL_SECONDS", default=60),
    },
    "reconcile-deployments": {
        "task": "apps.deployments.tasks.reconcile_deployments",
        "schedule": env.float("DEPLOYMENT_RECONCILE_INTERVAL_SECONDS", default=30),
    },
    "scale-idle-deployments": {
        "task": "apps.deployments.tasks.scale_idle_deployments",
        "schedule": env.float("DEPLOYMENT_IDLE_CHECK_SECONDS", default=60),
    },
    "fail-stuck-builds": {
        "task": "apps.builds.tasks.fail_stuck_builds",
        "schedule": env.float("BUILD_REAPER_INTERVAL_SECONDS", default=60),
    },
}

# --- Runtime ------------------------------------------------------------------------------------
RUNTIME_BACKEND = env.str("RUNTIME_BACKEND", default="local")
RUNTIME_ROOT = env.path("RUNTIME_ROOT", default=str(VAR_DIR / "runtime"))
# Without bubblewrap the local backend refuses to run anything, unless this is set; /health says so.
RUNTIME_ALLOW_UNISOLATED = env.bool("RUNTIME_ALLOW_UNISOLATED", default=False)
# Code sessions (002): sandboxes idle this long are stopped; files written through the API are capped.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)
SESSION_FILE_MAX_BYTES = env.int("SESSION_FILE_MAX_BYTES", default=1024**2)

# --- Environments (001, 004) ---------------------------------------------------------------------
# Running environments with no heartbeat or terminal input for this long are stopped (0: never),
# for tiers with auto_shutdown_enabled.
ENVIRONMENT_IDLE_TIMEOUT_MINUTES = env.int("ENVIRONMENT_IDLE_TIMEOUT_MINUTES", default=30)
# Nothing may stay in creating or installing longer than this; the reconciler marks it error.
ENVIRONMENT_PROVISION_TIMEOUT_SECONDS = env.int("ENVIRONMENT_PROVISION_TIMEOUT_SECONDS", default=20 * 60)
# Each template startup command (the "installation") gets at most this long.
ENVIRONMENT_INSTALL_COMMAND_TIMEOUT_SECONDS = env.int("ENVIRONMENT_INSTALL_COMMAND_TIMEOUT_SECONDS", default=600)

# --- Google Cloud (000's Cloud Build and Cloud Run backends) ------------------------------------
GCP_PROJECT_ID = env.str("GCP_PROJECT_ID", default="")
GCP_REGION = env.str("GCP_REGION", default="us-central1")
GCP_ARTIFACT_REPOSITORY = env.str("GCP_ARTIFACT_REPOSITORY", default="hangar")
# Bucket that receives each build's source tarball for Cloud Build.
GCP_BUILD_BUCKET = env.str("GCP_BUILD_BUCKET", default="")

# --- Builds (000) -------------------------------------------------------------------------------
# local: a Python environment built in a sandbox; cloudbuild: an image built by Google Cloud Build.
BUILD_BACKEND = env.str("BUILD_BACKEND", default="cloudbuild" if GCP_PROJECT_ID else "local")
BUILDS_ROOT = env.path("BUILDS_ROOT", default=str(VAR_DIR / "builds"))
# Finished environments shared by every build with the same requirements and Python.
BUILD_CACHE_ROOT = env.path("BUILD_CACHE_ROOT", default=str(VAR_DIR / "build-cache"))
# One build may take this long; past it the build fails, and the reaper fails anything left over.
BUILD_TIMEOUT_SECONDS = env.int("BUILD_TIMEOUT_SECONDS", default=900)
BUILD_MEMORY_MB = env.int("BUILD_MEMORY_MB", default=2048)

# --- Deployments (000) and the app proxy ---------------------------------------------------------
# local: a sandbox per revision behind Hangar's /apps/ proxy; cloudrun: Google Cloud Run;
# kubernetes: a Deployment, Service and HPA per app in DEPLOY_K8S_NAMESPACE.
DEPLOY_BACKEND = env.str("DEPLOY_BACKEND", default="local")
DEPLOY_IMAGE = env.str("DEPLOY_IMAGE", default="python:3.11")
# A new revision must answer GET / within this long, or it fails with its log.
DEPLOY_HEALTH_TIMEOUT_SECONDS = env.int("DEPLOY_HEALTH_TIMEOUT_SECONDS", default=120)
# Apps with min_instances 0 and no request for this long are stopped until the next request.
DEPLOYMENT_IDLE_SECONDS = env.int("DEPLOYMENT_IDLE_SECONDS", default=900)
# How long each process trusts its in-memory route to an app; the shared cache holds it longer.
DEPLOY_ROUTE_CACHE_SECONDS = env.float("DEPLOY_ROUTE_CACHE_SECONDS", default=2.0)
# After traffic switches to a new revision, the old one serves this long before it is stopped, so
# no process still routing to it from its in-memory cache meets a closed port.
DEPLOY_DRAIN_SECONDS = env.float("DEPLOY_DRAIN_SECONDS", default=3.0)
DEPLOY_K8S_NAMESPACE = env.str("DEPLOY_K8S_NAMESPACE", default="hangar-apps")
# Deployed apps share Hangar's origin unless this names another (e.g. https://apps.example.com):
# then app URLs use it, and /apps/ on any other host redirects there, so an app's pages never run
# beside Hangar's own pages and cookies.
APPS_PUBLIC_URL = env.str("APPS_PUBLIC_URL", default="")

# --- Pipelines and webhooks (000) ----------------------------------------------------------------
# Seconds each one-click pipeline step may take: its Celery task's soft time limit, and the age past
# which (plus the grace) the reconciler fails a pipeline still on that step.
PIPELINE_STEP_TIMEOUTS = {
    "parse": 120,
    "dependencies": 60,
    "upload": 300,
    "build": 1800,
    "deploy": 600,
    **env.json("PIPELINE_STEP_TIMEOUTS", default={}),
}
PIPELINE_RECONCILE_GRACE_SECONDS = env.int("PIPELINE_RECONCILE_GRACE_SECONDS", default=60)
# Repository links may name file:// repositories (a local bare repository, for testing); off in
# production, where they would let users read any git repository on the server.
WEBHOOK_ALLOW_FILE_REPOS = env.bool("WEBHOOK_ALLOW_FILE_REPOS", default=not PRODUCTION)
# A webhook's git clone of the linked branch must finish within this.
WEBHOOK_GIT_TIMEOUT_SECONDS = env.int("WEBHOOK_GIT_TIMEOUT_SECONDS", default=120)
WEBHOOK_MAX_NOTEBOOK_BYTES = env.int("WEBHOOK_MAX_NOTEBOOK_BYTES", default=50 * 1024**2)

# --- Secrets at rest ----------------------------------------------------------------------------
# Comma-separated Fernet keys; the first encrypts, all decrypt, so keys rotate by prepending one.
# Without the variable one key is derived from SECRET_KEY, so the embedded default works with no
# setup; set ENCRYPTION_KEYS in production so that changing SECRET_KEY cannot lose the secrets.
ENCRYPTION_KEYS = env.list("ENCRYPTION_KEYS", default=[])
if not ENCRYPTION_KEYS:
    ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(b"hangar.encryption:" + SECRET_KEY.encode()).digest()).decode()
    ]

# --- Uploads ------------------------------------------------------------------------------------
# Files above this size stream to a temporary file instead of memory (user files go up to the
# tier's max_upload_bytes); non-file request bodies (JSON, forms) stay capped at 10 MB.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024**2

# --- Datasets and credits (003) -----------------------------------------------------------------
# A signed upload URL (embedded mode) or presigned S3 URL is valid this long.
DATASET_UPLOAD_URL_TTL_SECONDS = env.int("DATASET_UPLOAD_URL_TTL_SECONDS", default=3600)
# Ingestion (read, profile, write Parquet) of one file must end within this; the reaper fails
# anything processing longer, and re-queues pending jobs whose task was lost.
DATASET_INGESTION_TIMEOUT_SECONDS = env.int("DATASET_INGESTION_TIMEOUT_SECONDS", default=1800)
CELERY_BEAT_SCHEDULE["reap-dataset-ingestions"] = {
    "task": "apps.datasets.tasks.reap_dataset_ingestions",
    "schedule": env.float("DATASET_REAPER_INTERVAL_SECONDS", default=60),
}
# Object storage for datasets: with a bucket set, uploads go straight to S3 (or R2, MinIO) through
# presigned URLs; without one, files live under MEDIA_ROOT/datasets and upload to a signed Hangar URL.
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="") or None
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="") or None
AWS_ACCESS_KEY_ID = env.str("AWS_ACCESS_KEY_ID", default="") or None
AWS_SECRET_ACCESS_KEY = env.str("AWS_SECRET_ACCESS_KEY", default="") or None
# Credits a user starts with, written as a "grant" transaction when their ledger is first touched.
CREDITS_SIGNUP_GRANT = env.int("CREDITS_SIGNUP_GRANT", default=100)
# 003's POST /api/credits/mock-purchase (off in production unless asked for) and its per-call cap.
ALLOW_MOCK_PURCHASES = env.bool("ALLOW_MOCK_PURCHASES", default=not PRODUCTION)
CREDITS_MOCK_PURCHASE_MAX = env.int("CREDITS_MOCK_PURCHASE_MAX", default=10000)

# --- Training jobs (003) -----------------------------------------------------------------------
# A job's training process is killed past this, and the job failed (and refunded) with the reason.
JOB_TIME_LIMIT_SECONDS = env.int("JOB_TIME_LIMIT_SECONDS", default=1800)
# Jobs queued or running longer than the limit plus this (their worker died) are failed and refunded.
JOB_STUCK_GRACE_SECONDS = env.int("JOB_STUCK_GRACE_SECONDS", default=300)
# Training processes write here; results are then copied to storage (MEDIA_ROOT/jobs by default).
JOBS_WORK_DIR = env.path("JOBS_WORK_DIR", default=str(VAR_DIR / "jobs"))
# The embedded worker has one task slot, which a long training must not hold: supervise on a thread.
JOB_SUPERVISE_IN_THREAD = env.bool("JOB_SUPERVISE_IN_THREAD", default=CELERY_EMBEDDED_WORKER)
CELERY_BEAT_SCHEDULE["reap-stuck-jobs"] = {
    "task": "apps.jobs.tasks.reap_stuck_jobs",
    "schedule": env.float("JOB_REAPER_INTERVAL_SECONDS", default=60),
}

# --- Auth --------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "apps.accounts.backends.UsernameOrEmailBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Off by default because 002's documented example registers with "password123", which the
# common-password list refuses; operators who want the stricter rule turn it on.
if env.bool("PASSWORD_REJECT_COMMON", default=False):
    AUTH_PASSWORD_VALIDATORS.append({"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"})
LOGIN_URL = "/login"

ACCESS_TOKEN_MINUTES = env.int("ACCESS_TOKEN_MINUTES", default=15)
REFRESH_TOKEN_DAYS = env.int("REFRESH_TOKEN_DAYS", default=7)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=ACCESS_TOKEN_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=REFRESH_TOKEN_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# The browser and 001's routes carry the JWT in these HttpOnly cookies.
JWT_ACCESS_COOKIE = "hangar_access"
JWT_REFRESH_COOKIE = "hangar_refresh"
JWT_COOKIE_SECURE = env.bool("JWT_COOKIE_SECURE", default=PRODUCTION)
JWT_COOKIE_SAMESITE = "Lax"
EMAIL_VERIFICATION_MAX_AGE = timedelta(days=3)

# Per-tier limits; uploads and storage in bytes. API rate limits are each family's documented
# numbers (the free tier) times the tier's rate_multiplier.
HANGAR_TIERS = {
    "free": {
        "max_uptime_minutes": 60,
        "auto_shutdown_enabled": True,
        "max_upload_bytes": 100 * 1024**2,
        "max_notebook_bytes": 20 * 1024**2,
        "storage_quota_bytes": 1024**3,
        "rate_multiplier": 1,
        "max_environments": 3,
    },
    "pro": {
        "max_uptime_minutes": 480,
        "auto_shutdown_enabled": True,
        "max_upload_bytes": 1024**3,
        "max_notebook_bytes": 100 * 1024**2,
        "storage_quota_bytes": 20 * 1024**3,
        "rate_multiplier": 3,
        "max_environments": 10,
    },
    "enterprise": {
        "max_uptime_minutes": 0,
        "auto_shutdown_enabled": False,
        "max_upload_bytes": 5 * 1024**3,
        "max_notebook_bytes": 500 * 1024**2,
        "storage_quota_bytes": 200 * 1024**3,
        "rate_multiplier": 10,
        "max_environments": 50,
    },
}

# --- Rate limits (per family, each configurable) ----------------------------------------------
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
HANGAR_RATE_LIMITS = {
    "cmb_auth": env.str("RATE_LIMIT_CMB_AUTH", default="10/h"),
    "cmb_api": env.str("RATE_LIMIT_CMB_API", default="60/m"),
    "v1_auth": env.str("RATE_LIMIT_V1_AUTH", default="5/m"),
    "v1_api": env.str("RATE_LIMIT_V1_API", default="100/m"),
    "automl_auth": env.str("RATE_LIMIT_AUTOML_AUTH", default="10/m"),
    "automl_api": env.str("RATE_LIMIT_AUTOML_API", default="100/m"),
    "exec_auth": env.str("RATE_LIMIT_EXEC_AUTH", default="10/m"),
    "exec_api": env.str("RATE_LIMIT_EXEC_API", default="100/m"),
    "pages_auth": env.str("RATE_LIMIT_PAGES_AUTH", default="10/m"),
    "resend_verification": env.str("RATE_LIMIT_RESEND_VERIFICATION", default="3/h"),
    "websocket_connections": env.int("RATE_LIMIT_WEBSOCKETS_PER_USER", default=10),
}
if not REDIS_URL:
    # The local-memory cache is per process; that is right for the single embedded process.
    SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

# --- REST framework and OpenAPI ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.HangarJWTAuthentication",
        "apps.accounts.authentication.CookieJWTAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "apps.core.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Hangar API",
    "DESCRIPTION": "Notebooks to apps, personal environments, code sessions and AutoML in one box.",
    "VERSION": VERSION,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    # Several models have a "status" field with different choices; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "TemplateStatusEnum": "apps.environments.models.Template.Status",
        "EnvironmentStatusEnum": "apps.environments.models.Environment.Status",
        "ClusterStatusEnum": "apps.environments.models.Cluster.Status",
        "DeploymentStatusEnum": "apps.deployments.models.Deployment.Status",
        "RepositoryProviderEnum": "apps.deployments.models.RepositoryLink.Provider",
        "ClusterProviderEnum": "apps.environments.models.Cluster.Provider",
        "BuildStatusEnum": "apps.builds.models.Build.Status",
        "NotebookStatusEnum": "apps.notebooks.models.Notebook.Status",
        "JobStatusEnum": "apps.jobs.models.Job.Status",
    },
}

# --- OAuth (django-allauth) -------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_PROVIDERS = {
    "google": {
        "APPS": [
            {
                "client_id": env.str("GOOGLE_CLIENT_ID", default=""),
                "secret": env.str("GOOGLE_CLIENT_SECRET", default=""),
            }
        ],
        "SCOPE": ["openid", "profile", "email"],
    },
    "github": {
        "APPS": [
            {
                "client_id": env.str("GITHUB_CLIENT_ID", default=""),
                "secret": env.str("GITHUB_CLIENT_SECRET", default=""),
            }
        ],
        "SCOPE": ["read:user", "user:email"],
    },
}

# --- Email -------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Hangar <noreply@localhost>")

# --- Static files and storage ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static", ("vendor", BASE_DIR / "node_modules")]
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security ----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_REDIRECT_EXEMPT = [r"^health"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
