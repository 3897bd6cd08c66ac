"""CommunityOps settings: one module, driven by environment variables (12-factor).

The defaults run the *embedded* mode: SQLite (WAL) and Celery's filesystem transport
under ``var/``, so ``make run`` works on a laptop with nothing installed. Production
(``DJANGO_ENV=production``) reads PostgreSQL, Redis and secrets from the environment and
refuses to start when a setting would make it unsafe.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.beat import beat_schedule

BASE_DIR = Path(__file__).resolve().parent.parent
# templates/, static/ and locale/: the repository's folders in a checkout (`make run`,
# `make test`, the editable install); an installed wheel carries copies inside this package,
# as config/assets/ (setup.py puts them there, with the translations compiled).
_SHIPPED_ASSETS = Path(__file__).resolve().parent / "assets"
INSTALLED_FROM_WHEEL = _SHIPPED_ASSETS.is_dir()
ASSETS_DIR = _SHIPPED_ASSETS if INSTALLED_FROM_WHEEL else BASE_DIR
# Where files are written (the embedded database, broker and cache; in production beat's
# schedule, collected static files and uploads unless STATIC_ROOT / MEDIA_ROOT say
# otherwise): var/ of the checkout, or, installed, var/ of the current directory, never
# site-packages. The systemd units set VAR_DIR=/var/lib/communityops (deploy/systemd/).
VAR_DIR = Path(
    os.environ.get("VAR_DIR") or ((Path.cwd() if INSTALLED_FROM_WHEEL else BASE_DIR) / "var")
)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Mode and the production guard -------------------------------------------------------

DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development' or 'production', not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"

DEFAULT_SECRET_KEY = "django-insecure-communityops-development-key-do-not-use-in-production"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY") or DEFAULT_SECRET_KEY
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1]")

if PRODUCTION:
    problems = []
    if DEBUG:
        problems.append("DEBUG is on (unset DEBUG or set DEBUG=0)")
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 50:
        problems.append("SECRET_KEY is the development default or shorter than 50 characters")
    if not ALLOWED_HOSTS:
        problems.append("ALLOWED_HOSTS is empty (a comma-separated list of host names)")
    if problems:
        raise ImproperlyConfigured(
            "CommunityOps refuses to start in production: " + "; ".join(problems) + "."
        )

# --- Applications ------------------------------------------------------------------------

INSTALLED_APPS = [
    "whitenoise.runserver_nostatic",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "communities",
    "members",
    "activities",
    "checklists",
    "analytics",
    "automations",
]

MIDDLEWARE = [
    # First: answers /healthz and /readyz before the TLS redirect and the Host check, as
    # load balancers probe over plain HTTP, by IP address (config/health.py).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, so that it sees the outcome of authentication (django-axes' rule).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
AUTH_USER_MODEL = "communities.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [ASSETS_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.layout",
            ],
        },
    }
]

# --- Database ----------------------------------------------------------------------------

SQLITE_PATH = VAR_DIR / "communityops.sqlite3"
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )
    }
elif PRODUCTION:
    raise ImproperlyConfigured(
        "CommunityOps refuses to start in production without DATABASE_URL "
        "(for example postgres://user:password@db-host:5432/communityops)."
    )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                # WAL lets the web server read while the worker writes; IMMEDIATE makes a
                # writer take the lock at BEGIN, so concurrent writers wait instead of
                # failing half-way with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache -------------------------------------------------------------------------------
# Web, worker and beat are separate processes even in the embedded mode, and the worker
# heartbeat and the login lockout must be seen by all of them, so the embedded cache is
# file-based under var/ rather than per-process local memory.

if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "communityops"),
            # A Redis that stops answering must fail a request (and /readyz) within seconds,
            # not hold every gunicorn worker until the kernel gives up on the socket.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_TIMEOUT", "2")),
                "socket_timeout": float(os.environ.get("REDIS_TIMEOUT", "2")),
            },
        }
    }
elif PRODUCTION:
    # A file cache is per machine: login lockouts and the worker heartbeat would not be
    # shared between the web servers and the worker.
    raise ImproperlyConfigured(
        "CommunityOps refuses to start in production without REDIS_URL, the cache shared "
        "by every machine (login lockouts, the worker heartbeat); "
        "for example redis://redis-host:6379/1."
    )
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    }

# --- Authentication ----------------------------------------------------------------------

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "overview"
LOGOUT_REDIRECT_URL = "login"
# Password-reset requests: at most this many an hour from one client address, and as many
# for one e-mail address (known or not); more are refused with a 429 (views_accounts.py).
PASSWORD_RESET_LIMIT = env_int("PASSWORD_RESET_LIMIT", 5)

# Five wrong passwords for one user name from one address lock that pair for 15 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=15)  # the lockout page says "a quarter of an hour"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# Axes records a failure's form fields; the password-change form's are secrets too.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "ip_address",
    "old_password",
    "new_password1",
    "new_password2",
]
# The client's address behind PROXY_COUNT trusted proxies (django-axes asks django-ipware).
# Each proxy appends the address it was connected from to X-Forwarded-For, so with N
# proxies the client is the N-th entry from the right: the last proxy's peer is in
# REMOTE_ADDR, and whatever the client itself sent stays on the left, where a spoofed
# entry cannot move it. ipware counts the proxies named inside the header (all but the
# last one), hence N - 1, counted from the right; not strict, so extra or malformed
# entries a client prepends are skipped instead of discarding the header (which would
# put every spoofer behind the proxy's own address, outside their lockout). A request
# that bypasses the proxies (no header) falls back to REMOTE_ADDR.
PROXY_COUNT = env_int("PROXY_COUNT", 0)
if PROXY_COUNT > 0:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    AXES_IPWARE_PROXY_COUNT = PROXY_COUNT - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)  # a forwarded header is not trusted
    AXES_IPWARE_PROXY_COUNT = None
AXES_IPWARE_PROXY_ORDER = "left-most"  # the header's standard order: client first, proxies after
IPWARE_STRICT = False

# --- Internationalisation ----------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [ASSETS_DIR / "locale"]
USE_I18N = True
# One date format per page and language: ISO 8601 (config/formats/).
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
DEFAULT_COMMUNITY_TIME_ZONE = "Asia/Shanghai"

# --- Static files ------------------------------------------------------------------------

STATIC_URL = "static/"
# collectstatic's target; only production serves from it (WhiteNoise, compressed).
STATIC_ROOT = os.environ.get("STATIC_ROOT") or (VAR_DIR / "staticfiles" if PRODUCTION else None)
STATICFILES_DIRS = [ASSETS_DIR / "static"]
# Outside production WhiteNoise serves straight from the source folders, fresh on every
# request, so `make run` (DEBUG off, for the product's own error pages) needs no
# collectstatic.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    # plotly.min.js straight from the installed plotly package, so the two never drift.
    "config.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"

# --- Activity ingestion (activities/) ----------------------------------------------------
# Uploaded exports wait in MEDIA_ROOT/imports until a worker has read them; at scale,
# MEDIA_ROOT must be storage that web and workers share.
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_MB", 200) * 1024 * 1024
IMPORT_MAX_ZIP_ENTRIES = env_int("IMPORT_MAX_ZIP_ENTRIES", 20_000)
IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("IMPORT_MAX_UNCOMPRESSED_MB", 2_000) * 1024 * 1024
IMPORT_MAX_JSON_DEPTH = env_int("IMPORT_MAX_JSON_DEPTH", 64)
# The largest single message and the longest single text in a JSON export: what the parser
# holds at once. 4 MB holds a message that lists thousands of people's reactions; a chat
# message's text is at most some 40,000 characters (Slack's limit).
IMPORT_MAX_JSON_MESSAGE_BYTES = env_int("IMPORT_MAX_JSON_MESSAGE_MB", 4) * 1024 * 1024
IMPORT_MAX_JSON_TEXT_BYTES = env_int("IMPORT_MAX_JSON_TEXT_KB", 1024) * 1024
# Each of a Slack export's channels.json and users.json, which are streamed too (users.json
# takes about 1.5 KB per person).
IMPORT_MAX_METADATA_BYTES = env_int("IMPORT_MAX_METADATA_MB", 100) * 1024 * 1024
# A running import whose worker has not reported progress for this long is marked failed
# (the worker was killed; nothing was written): activities.services.imports_reap_stale.
IMPORT_STALE_MINUTES = env_int("IMPORT_STALE_MINUTES", 15)
# Webhook API: events per request, body size, requests per connector per minute.
INGEST_MAX_EVENTS = env_int("INGEST_MAX_EVENTS", 1_000)
INGEST_MAX_BODY_BYTES = env_int("INGEST_MAX_BODY_KB", 2_048) * 1024
INGEST_RATE_PER_MINUTE = env_int("INGEST_RATE_PER_MINUTE", 120)
INGEST_SIGNATURE_TOLERANCE_SECONDS = 300
# --- Analytics (docs/metrics.md; the README's metrics section says what each one means) ---
ANALYTICS_MAINSTREAM_MIN_DAYS = env_int("ANALYTICS_MAINSTREAM_MIN_DAYS", 4)
ANALYTICS_ACTIVATION_MIN_DAYS = env_int("ANALYTICS_ACTIVATION_MIN_DAYS", 4)
ANALYTICS_ACTIVATION_MIN_MEMBERS = env_int("ANALYTICS_ACTIVATION_MIN_MEMBERS", 10)
ANALYTICS_SILENCE_HOURS = env_int("ANALYTICS_SILENCE_HOURS", 24)
ANALYTICS_DORMANT_DAYS = env_int("ANALYTICS_DORMANT_DAYS", 7)
ANALYTICS_BUDDING_DAYS = env_int("ANALYTICS_BUDDING_DAYS", 30)
ANALYTICS_DECLINE_DROP_PERCENT = env_int("ANALYTICS_DECLINE_DROP_PERCENT", 30)
ANALYTICS_DECLINE_WAU_SHARE_PERCENT = env_int("ANALYTICS_DECLINE_WAU_SHARE_PERCENT", 10)
ANALYTICS_GROWTH_PERCENT = env_int("ANALYTICS_GROWTH_PERCENT", 10)
# SOP alert: daily-checklist completion over the last 7 days below this percentage.
SOP_ALERT_PERCENT = env_int("SOP_ALERT_PERCENT", 50)

# After a rotation, the previous secret still signs for this long.
CONNECTOR_ROTATION_GRACE_HOURS = env_int("CONNECTOR_ROTATION_GRACE_HOURS", 24)
# Connectors may send to loopback and private addresses (an intranet's chat server; the
# tests' stand-in server). Off by default: a typed URL must not reach the internal network.
CONNECTOR_ALLOW_PRIVATE_URLS = env_bool("CONNECTOR_ALLOW_PRIVATE_URLS", False)
# --- Scheduled actions (automations/; the execution contract) ----------------------------
# An action found due later than this (nothing ran at its time) is marked missed, not sent.
ACTIONS_GRACE_MINUTES = env_int("ACTIONS_GRACE_MINUTES", 15)
# Requests per delivery before a transient failure (5xx, 429, refused) becomes "failed".
ACTIONS_MAX_ATTEMPTS = env_int("ACTIONS_MAX_ATTEMPTS", 6)
# Seconds to wait for a platform's answer; none by then → the delivery is "unknown".
ACTIONS_SEND_TIMEOUT_SECONDS = env_int("ACTIONS_SEND_TIMEOUT_SECONDS", 10)

# --- Security ----------------------------------------------------------------------------

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Load balancers probe over plain HTTP (HealthCheckMiddleware answers first anyway).
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("BEHIND_TLS_PROXY", False):
        # The load balancer terminates TLS and says so in X-Forwarded-Proto.
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# No inline script anywhere: htmx is configured through a <meta> tag, chart data travels
# in json_script blocks (type="application/json", never executed). Inline *styles* stay
# allowed because plotly.js styles its SVG at run time.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Celery ------------------------------------------------------------------------------
# Read by config/celery.py (namespace CELERY_). Queues: default, analytics, actions.

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if PRODUCTION and CELERY_BROKER_URL.startswith("filesystem"):
    raise ImproperlyConfigured(
        "CommunityOps refuses to start in production on the filesystem broker: "
        "set CELERY_BROKER_URL (for example redis://redis-host:6379/0)."
    )
if CELERY_BROKER_URL.startswith("filesystem"):
    # The embedded broker: each message is a file under var/celery, no server needed.
    _celery_folder = VAR_DIR / "celery"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_folder / "queue"),
        "data_folder_out": str(_celery_folder / "queue"),
        "processed_folder": str(_celery_folder / "processed"),
        # The exchange tables (kombu defaults to ./control, relative to wherever the process
        # was started): keep them with the rest of the embedded broker, out of the tree.
        "control_folder": str(_celery_folder / "control"),
        "store_processed": False,
    }
else:
    # Redis: a task not acknowledged within an hour is delivered again.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_IGNORE_RESULT = CELERY_RESULT_BACKEND is None
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A task that forgets its own limits still cannot hold a worker for ever.
CELERY_TASK_SOFT_TIME_LIMIT = 300
CELERY_TASK_TIME_LIMIT = 360
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_MAX_TASKS_PER_CHILD = 1000
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_CREATE_MISSING_QUEUES = False
CELERY_TASK_QUEUES = {"default": {}, "analytics": {}, "actions": {}, "imports": {}}
# Routing by task name; every task is named "<app>.<verb_object>" (docs/architecture.md §4).
CELERY_TASK_ROUTES = {
    "analytics.*": {"queue": "analytics"},
    "activities.run_import": {"queue": "imports"},
    # The deliveries have the actions queue to themselves: the dispatcher's 5-second tick
    # and the other automations jobs go to default, so a backlog of ten thousand sends
    # never delays the tick that claims the next due actions (bench/actions.py).
    "automations.deliver": {"queue": "actions"},
    "automations.*": {"queue": "default"},
}
# How often beat asks a worker for a heartbeat (seconds); see config/beat.py.
HEARTBEAT_INTERVAL_SECONDS = float(os.environ.get("HEARTBEAT_INTERVAL_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = beat_schedule(HEARTBEAT_INTERVAL_SECONDS)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail (invitations; password reset) ------------------------------------------------

# Development prints each mail on the console (`make run`); production sends by SMTP.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CommunityOps <noreply@localhost>")
# The address staff open CommunityOps at: links in e-mails sent without a request (a
# worker's overdue-checklist notices) start with it.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# How long an invitation link works.
INVITATION_DAYS = env_int("INVITATION_DAYS", 7)

# --- Logging -----------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every line twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
    },
}

ADMIN_URL = os.environ.get("ADMIN_URL", "admin/")
