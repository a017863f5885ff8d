"""Django settings for the Kubernetes Failure KB.

Everything comes from the environment; nothing is required to run locally. A bad value fails
loudly at start-up instead of being silently replaced by a default.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from incidents.rules.stories import DEFAULT_SITE_URL
from kb import envfile

BASE_DIR = Path(__file__).resolve().parent.parent

# Local development: `make setup` writes BASE_DIR/.env (DEBUG on, a generated SECRET_KEY) so that
# commands typed in a plain shell get the same settings as `make run`. The real environment wins
# over the file; KB_ENV_FILE names another file, and KB_ENV_FILE= (empty) reads none (the test
# suite runs that way). Production has no such file: DEBUG is off and SECRET_KEY is required.
ENV_FILE = os.environ.get("KB_ENV_FILE", str(BASE_DIR / ".env"))
try:
    ENV_FILE_LOADED = envfile.load(Path(ENV_FILE)) if ENV_FILE else []
except (envfile.EnvFileError, OSError) as exc:
    raise ImproperlyConfigured(f"KB_ENV_FILE: {exc}") from exc


def env(name: str, default: str = "") -> str:
    """Read a string; `NAME_FILE` (a path) wins over `NAME` so secrets can come from files."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def envbool(name: str, default: str = "false") -> bool:
    value = env(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use true/false)")


def envint(name: str, default: str, *, minimum: int = 0) -> int:
    value = env(name, default).strip()
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} must be at least {minimum}")
    return number


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


def envrate(name: str, default: str) -> str:
    """A rate such as `120/minute` (second, minute, hour or day; only the first letter counts)."""
    value = env(name, default).strip()
    count, _, period = value.partition("/")
    if not (count.isdigit() and period[:1].lower() in {"s", "m", "h", "d"}):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate (use e.g. 120/minute)")
    return value


def envchoice(name: str, default: str, choices: set[str]) -> str:
    value = env(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} must be one of {sorted(choices)}")
    return value


DEBUG = envbool("DEBUG")
VAR_DIR = Path(env("KB_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if DEBUG or envbool("KB_TESTING"):
        SECRET_KEY = "insecure-development-key-only-for-debug-and-tests-0123456789"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY (or SECRET_KEY_FILE); "
            "for local development run `make setup`, which writes a .env with DEBUG=true."
        )

ALLOWED_HOSTS = envlist(
    "ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" + (",testserver" if DEBUG else "")
)
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = env("SITE_URL", DEFAULT_SITE_URL).rstrip("/")  # kbcheck links to it too

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "incidents",
]

MIDDLEWARE = [
    "incidents.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "incidents.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: picks the language from the cookie set by the language
    # switch, else Accept-Language, else LANGUAGE_CODE. URLs carry no language prefix.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which is the first to read request.POST.
    "incidents.formbody.FormBodyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "kb.urls"
WSGI_APPLICATION = "kb.wsgi.application"
ASGI_APPLICATION = "kb.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "incidents.context_processors.site",
            ],
        },
    },
]

# Database: SQLite under var/ by default; PostgreSQL (or anything dj-database-url knows) when
# DATABASE_URL is set.
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    try:
        DATABASES = {
            "default": dj_database_url.parse(
                DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", "60"), conn_health_checks=True
            )
        }
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from exc
    if "postgres" in DATABASES["default"]["ENGINE"]:
        # Fail fast instead of hanging a worker (and the readiness probe) on an unreachable host.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", envint("DB_CONNECT_TIMEOUT", "5", minimum=1)
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "kb.sqlite3",
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the
                # busy timeout instead of failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                ),
            },
            # No TEST name: tests use an in-memory database, so parallel runs never collide.
        }
    }
DB_VENDOR = DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
IS_POSTGRES = "postgres" in DATABASES["default"]["ENGINE"]
if not IS_POSTGRES:
    INSTALLED_APPS.remove("django.contrib.postgres")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Caches: Redis when REDIS_URL is set (shared by every app server), the database otherwise.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", "kb"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "kb_cache",
        }
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
# The interface languages. English is the source text; the Simplified Chinese catalogue is
# locale/zh_Hans/LC_MESSAGES/django.po (the compiled .mo is committed, so running the site needs
# no gettext tools; `manage.py makemessages`/`compilemessages` do, see docs/translation.md).
LANGUAGES = [("en-gb", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# KB_STATIC_ROOT lets a container image keep collected static files outside the writable VAR_DIR.
STATIC_ROOT = Path(env("KB_STATIC_ROOT", str(VAR_DIR / "staticfiles"))).resolve()
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or envbool("KB_TESTING")
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security. HTTPS-only settings switch on with KB_HTTPS=true (behind TLS termination).
KB_HTTPS = envbool("KB_HTTPS")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = KB_HTTPS
CSRF_COOKIE_SECURE = KB_HTTPS
SECURE_SSL_REDIRECT = KB_HTTPS and envbool("KB_SSL_REDIRECT", "true")
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if KB_HTTPS else "0")
SECURE_HSTS_INCLUDE_SUBDOMAINS = KB_HTTPS
SECURE_HSTS_PRELOAD = KB_HTTPS and envbool("SECURE_HSTS_PRELOAD")
if envbool("KB_BEHIND_PROXY_TLS"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Probes come over plain HTTP from the kubelet or load balancer: answer them, never redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SAMESITE = "Lax"
# No 'unsafe-inline' anywhere: pages, admin and API docs load scripts and styles from files.
KB_CONTENT_SECURITY_POLICY = env(
    "KB_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
)
KB_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
# How many reverse proxies sit in front of the app; the client address is taken that many hops
# from the right of X-Forwarded-For, so a forged header earns no extra throttle quota.
KB_NUM_PROXIES = envint("KB_NUM_PROXIES", "0")

ADMIN_URL = env("ADMIN_URL", "admin/").strip("/") + "/"

DATA_UPLOAD_MAX_MEMORY_SIZE = envint("KB_MAX_BODY_BYTES", str(6 * 1024 * 1024), minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
KB_MAX_MANIFEST_BYTES = envint("KB_MAX_MANIFEST_BYTES", str(5 * 1024 * 1024), minimum=1024)
# A cluster snapshot (deploy/snapshot.sh) for the exposure report: larger than one app's
# manifests, still bounded (parsing costs several times its size in memory).
KB_MAX_SNAPSHOT_BYTES = envint("KB_MAX_SNAPSHOT_BYTES", str(16 * 1024 * 1024), minimum=1024)

# Admission webhook (POST /admission/validate, docs/admission.md): warn by default; deny only
# findings at or above KB_ADMISSION_DENY_AT (off: never). Bodies above KB_ADMISSION_MAX_BYTES are
# refused (413) and a review taking longer than KB_ADMISSION_TIMEOUT_MS is allowed with a warning.
KB_ADMISSION_DENY_AT = envchoice("KB_ADMISSION_DENY_AT", "off", {"off", "info", "warning", "error"})
KB_ADMISSION_MAX_BYTES = envint("KB_ADMISSION_MAX_BYTES", str(3 * 1024 * 1024), minimum=1024)
KB_ADMISSION_TIMEOUT_MS = envint("KB_ADMISSION_TIMEOUT_MS", "2000", minimum=10)

# Search: Whoosh on disk by default; PostgreSQL full-text search when the database is PostgreSQL.
KB_SEARCH_BACKEND = envchoice(
    "KB_SEARCH_BACKEND", "postgres" if IS_POSTGRES else "whoosh", {"whoosh", "postgres"}
)
KB_SEARCH_INDEX_DIR = Path(env("KB_SEARCH_INDEX_DIR", str(VAR_DIR / "search"))).resolve()

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "incidents.api.renderers.KBJSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "incidents.api.errors.exception_handler",
    "NUM_PROXIES": KB_NUM_PROXIES,
}
# API throttling (fixed windows in the shared cache): anonymous clients by address, token holders
# by token. Format "<requests>/<second|minute|hour|day>".
KB_API_THROTTLE_ANON = envrate("KB_API_THROTTLE_ANON", "120/minute")
KB_API_THROTTLE_TOKEN = envrate("KB_API_THROTTLE_TOKEN", "1200/minute")
# Manifest checks through the web page, per client address (the API's check is throttled above).
KB_WEB_CHECK_THROTTLE = envrate("KB_WEB_CHECK_THROTTLE", "60/minute")
# Failed API authentications (a wrong or revoked token) per client address; over it: 429.
KB_AUTH_FAILURE_THROTTLE = envrate("KB_AUTH_FAILURE_THROTTLE", "20/minute")
# Largest batch of requests one worker reserves at a time from a shared rate-limit counter
# (incidents.ratelimit): a batch is also at most 1% of the limit, so a client gets at most
# (workers x 1%) less than its limit, never more. 1: every request goes to the shared counter.
KB_RATE_LIMIT_LEASE = envint("KB_RATE_LIMIT_LEASE", "50", minimum=1)

# Chat slash commands. Unset means the endpoint refuses every request (401).
SLACK_SIGNING_SECRET = envlist("SLACK_SIGNING_SECRET")  # comma-separated during rotation
MATTERMOST_TOKEN = envlist("MATTERMOST_TOKEN")  # comma-separated during rotation
TEAMS_HMAC_SECRET = env("TEAMS_HMAC_SECRET")  # base64, as Teams shows it for outgoing webhooks
SPECTACULAR_SETTINGS = {
    "TITLE": "Kubernetes Failure KB API",
    "DESCRIPTION": "Search public Kubernetes failure stories and check manifests against rules "
    "that each link to the outages that show why they matter.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOG_LEVEL = envchoice("LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
# JSON lines (one object per record, request fields included) for log shippers; text for humans.
LOG_FORMAT = envchoice("LOG_FORMAT", "text" if DEBUG else "json", {"json", "text"})
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "incidents.middleware.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Our request log replaces django.server/django.request's per-request lines.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "kb.request": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
