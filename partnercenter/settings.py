"""Partner Center settings: one module, every value read from the environment.

See README.md ("Configuration") for the list of variables.
"""

import os
import re
import zoneinfo
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Development defaults from the git-ignored `.env` that `make` writes (DEBUG on and a random
    SECRET_KEY), so that `manage.py` works in a checkout. The real environment always wins; a
    production machine has no `.env`."""
    if not path.is_file():
        return
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


_load_dotenv(BASE_DIR / ".env")
VAR_DIR = Path(os.environ.get("PARTNERCENTER_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def env_bool(name: str, default: bool) -> bool:
    """Like healthchecks' envbool: a value that is neither clearly on nor clearly off stops start-up,
    so `DEBUG=Ture` cannot quietly mean off."""
    value = _raw(name).lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={os.environ[name]!r} is not understood: use true/false, yes/no, on/off or 1/0 "
        "(or leave it empty for the default)."
    )


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if not value:
        return default
    accepts = "a whole number" + (
        f" from {minimum} to {maximum}" if minimum is not None and maximum is not None
        else f" of at least {minimum}" if minimum is not None
        else f" of at most {maximum}" if maximum is not None else ""
    )
    # ASCII digits only: int() would also take "１２" or "1_000".
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is not understood: use {accepts}.")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ImproperlyConfigured(f"{name}={os.environ[name]!r} is out of range: use {accepts}.")
    return number


def env_decimal(name: str, default: str, *, maximum: Decimal) -> Decimal:
    """A positive amount in USD with at most 2 decimal places, written out in full (DESIGN §2)."""
    value = _raw(name) or default
    accepts = f"a positive amount with at most 2 decimal places, such as {default}, of at most {maximum}"
    if not re.fullmatch(r"[0-9]{1,20}(\.[0-9]{1,2})?", value):
        raise ImproperlyConfigured(f"{name}={value!r} is not understood: use {accepts}.")
    amount = Decimal(value)
    if not 0 < amount <= maximum:
        raise ImproperlyConfigured(f"{name}={value!r} is out of range: use {accepts}.")
    return amount


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _raw(name) or default
    known = {choice.lower(): choice for choice in choices}
    if value.lower() not in known:
        raise ImproperlyConfigured(f"{name}={value!r} is not understood: use one of {', '.join(choices)}.")
    return known[value.lower()]


def env_time_zone(name: str, default: str) -> str:
    value = _raw(name) or default
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a time zone: use an IANA name such as UTC or Asia/Shanghai."
        ) from error
    return value


DEBUG = env_bool("DEBUG", False)
TESTING = env_bool("PARTNERCENTER_TESTING", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        # A development-only key; DEBUG off refuses to start without a real one.
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if (DEBUG or TESTING) else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "axes",
    # console has no models: it is installed for its template tags ({% load console %}).
    "console",
    "customers",
    "credits",
    "notifications",
    "api",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files from the web process itself (no separate file server needed).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "partnercenter.middleware.ContentSecurityPolicyMiddleware",
    "partnercenter.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common (Django's order): the language from the cookie or Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A signed-in member's stored language wins over the cookie and the browser's (DESIGN §9).
    "partnercenter.middleware.MemberLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a sign-in refused by the throttle into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "partnercenter.urls"
WSGI_APPLICATION = "partnercenter.wsgi.application"

TEMPLATES = [
    {
        # Django's, its check told that "i18n" below is ours on purpose (partnercenter/template_i18n.py).
        "BACKEND": "partnercenter.template_i18n.DjangoTemplates",
        "NAME": "django",  # the name Django's backend goes by (engines["django"])
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "console.context_processors.console",
                "notifications.context_processors.unread",
            ],
            # {% url %} with its answers kept per process (partnercenter/template_url.py).
            "builtins": ["partnercenter.template_url"],
            # {% load i18n %}: Django's, its literal {% translate %} texts kept per language
            # (partnercenter/template_i18n.py).
            "libraries": {"i18n": "partnercenter.template_i18n"},
        },
    }
]

# Django's form renderer with its commonest widget templates written in Python (same output, a fraction of
# the time): partnercenter/form_renderer.py.
FORM_RENDERER = "partnercenter.form_renderer.FormRenderer"

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'partnercenter.sqlite3'}"
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))}
except ValueError:  # its message could repeat the URL, password included
    raise ImproperlyConfigured(
        "DATABASE_URL is not understood: use a URL such as postgres://user:password@host:5432/name "
        "or sqlite:////path/to/file.sqlite3."
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web, worker, beat) share the file: wait for the write lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif TESTING:
    # Live-server request threads end with their requests; a kept-alive connection would outlive
    # them and hold the test database open when the run drops it.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = _raw("REDIS_URL")
# Connecting to Redis, and each command, gives up after this long (broker and cache alike).
REDIS_TIMEOUT_SECONDS = 2
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL is not understood: use redis://host:6379/0, rediss://… or unix://…, or leave it empty.")
if REDIS_URL:
    # The cache only counts API rate limits and caches counts: a Redis that hangs must cost a request
    # seconds, not minutes (callers treat a cache error as "not counted" and go on).
    CACHES = {
        "default": {
            # Django's, keeping its Redis clients (core.cache).
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS, "socket_timeout": REDIS_TIMEOUT_SECONDS},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
# pytest-xdist runs the suite in several processes, each with its own test database, against one
# Redis (and one var/): each process keeps its own cache keys and Celery queue, so that a rate-limit
# count, a cached count or a task of one process never reaches another.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "") if TESTING else ""
if XDIST_WORKER:
    CACHES["default"]["KEY_PREFIX"] = f"test-{XDIST_WORKER}"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Tests make hundreds of users: Django's default (PBKDF2, a million rounds) would spend most of
    # the suite's time hashing their passwords. Never outside tests.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Sign-in throttle (django-axes, counted in the database, so sign-in works while Redis is down).
# partnercenter.signin.SignInThrottle holds the rules; README "Sign-in throttle" explains them.
# MemberBackend is Django's ModelBackend reading the user's membership with the user (one query a
# request). Sessions signed in before it was named here (through ModelBackend) sign in again.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "partnercenter.auth.MemberBackend"]
SIGNIN_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
SIGNIN_IP_FAILURE_LIMIT = env_int("SIGNIN_IP_FAILURE_LIMIT", 100, minimum=2)
if SIGNIN_IP_FAILURE_LIMIT <= SIGNIN_FAILURE_LIMIT:
    # Otherwise one locked username would lock every other user of its address with it.
    raise ImproperlyConfigured(
        f"SIGNIN_IP_FAILURE_LIMIT={SIGNIN_IP_FAILURE_LIMIT} must be higher than SIGNIN_FAILURE_LIMIT={SIGNIN_FAILURE_LIMIT}."
    )
SIGNIN_LOCKOUT_MINUTES = env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1)
SIGNIN_LOCKOUT_MAX_HOURS = env_int("SIGNIN_LOCKOUT_MAX_HOURS", 24, minimum=1)
if SIGNIN_LOCKOUT_MAX_HOURS * 60 < SIGNIN_LOCKOUT_MINUTES:
    raise ImproperlyConfigured("SIGNIN_LOCKOUT_MAX_HOURS must be at least SIGNIN_LOCKOUT_MINUTES.")
# How many reverse proxies of yours stand in front of the web process, each appending to
# X-Forwarded-For. 0: the header is ignored (a client can write anything in it) and REMOTE_ADDR counts.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_HANDLER = "partnercenter.signin.SignInThrottle"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# Axes compares one count with one limit; SignInThrottle applies two limits and a growing lock instead.
AXES_LOCK_OUT_AT_FAILURE = False
# How long failures are remembered after the last one (and the longest lock).
AXES_COOLOFF_TIME = timedelta(hours=SIGNIN_LOCKOUT_MAX_HOURS)
# A refused attempt while locked is not a failure: the right password after the lock just works.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "partnercenter.signin.client_ip"
AXES_LOCKOUT_CALLABLE = "partnercenter.signin.locked_out"
# No start-up banner in the output of every manage.py command; failures and lockouts are still logged.
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# English and Simplified Chinese (DESIGN §9). The compiled catalogues (locale/*/LC_MESSAGES/*.mo)
# are committed: README "Translations" says how to update them.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Numbers and dates are written one way in both languages: YYYY-MM-DD, thousands separators.
FORMAT_MODULE_PATH = ["partnercenter.formats"]
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# A reseller's alert day is counted in its own zone; new resellers get UTC+8 unless told otherwise.
DEFAULT_RESELLER_TIME_ZONE = env_time_zone("DEFAULT_RESELLER_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# In development and tests WhiteNoise serves straight from the app and project static folders.
WHITENOISE_USE_FINDERS = DEBUG or TESTING
WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# Security: strict by default, relaxed only for local development.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and not TESTING)
SESSION_COOKIE_HTTPONLY = True
# Database sessions, read with a statement compiled once per connection (partnercenter/sessions.py).
SESSION_ENGINE = "partnercenter.sessions"
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Money rules (DESIGN §2).
# At most what the amount columns hold (16 digits, 2 of them decimals).
# How often every console page asks for the bell's unread count (notifications.views.bell).
MESSAGE_BELL_POLL_SECONDS = env_int("MESSAGE_BELL_POLL_SECONDS", 30, minimum=1, maximum=3600)
CREDIT_MAX_PER_OPERATION = env_decimal("CREDIT_MAX_PER_OPERATION", "10000000.00", maximum=Decimal("99999999999999.99"))

# Tencent-compatible API (DESIGN §5). API_KEY_ENCRYPTION_KEY: comma-separated Fernet keys (the
# first encrypts, all decrypt); empty derives one from SECRET_KEY. Rate limits are requests per
# second per reseller per action, across all the reseller's API keys, counted in the cache (Redis
# when REDIS_URL is set).
API_KEY_ENCRYPTION_KEY = os.environ.get("API_KEY_ENCRYPTION_KEY", "")
API_RATE_LIMIT_CREDIT = env_int("API_RATE_LIMIT_CREDIT", 5, minimum=0)
API_RATE_LIMIT_DEFAULT = env_int("API_RATE_LIMIT_DEFAULT", 20, minimum=0)

# Celery: Redis when REDIS_URL is set, otherwise an embedded file-system broker so that
# `make run` needs no server.
# Tests without Redis publish to memory, so they never feed a development worker's folder.
# "localhost": kombu names no host for the file broker otherwise and logs that it reverts to it.
CELERY_BROKER_URL = REDIS_URL or ("memory://" if TESTING else "filesystem://localhost//")
if not REDIS_URL:
    _broker_dir = VAR_DIR / "celery-broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    if REDIS_URL.startswith("redis://"):
        # kombu's Redis transport keeping one client per channel (core.broker.RedisTransport).
        # rediss:// keeps kombu's own, which picks its SSL defaults from the scheme's name.
        CELERY_BROKER_TRANSPORT = "core.broker:RedisTransport"
    # A web request publishes after its commit: when Redis is down or hangs, that publish must fail
    # within seconds (it is logged and the sweeps catch up), never hold the request. Connecting
    # gives up after 2 s, a command without an answer after 2 s (kombu waits forever by default).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 3600,
        "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
        "socket_timeout": REDIS_TIMEOUT_SECONDS,
    }
# One quick retry of a failed publish (a Redis restart), not Celery's default of three.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_DEFAULT_QUEUE = f"celery-test-{XDIST_WORKER}" if XDIST_WORKER else "celery"
# Alert deliveries have a queue of their own, which every worker consumes beside the default one,
# taking from each in turn (kombu's round robin): a backlog of evaluations (a burst of usage, the
# sweep) never holds up deliveries that are ready to go.
_DELIVERY_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-deliveries"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(_DELIVERY_QUEUE))
CELERY_TASK_ROUTES = {
    "notifications.tasks.delivery_send": {"queue": _DELIVERY_QUEUE},
    "notifications.tasks.deliveries_send": {"queue": _DELIVERY_QUEUE},
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# SMTP sessions a worker keeps open at once while it sends a chunk of deliveries (threads waiting
# on the server's replies in parallel).
EMAIL_BATCH_SESSIONS = env_int("EMAIL_BATCH_SESSIONS", 4, minimum=1, maximum=32)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Partner Center <noreply@partnercenter.local>")

# Usage alerts (DESIGN §3). SMS_BACKEND: console, file (one file per SMS in SMS_FILE_PATH),
# locmem (tests) or tencent (Tencent Cloud SMS SendSms with the SMS_TENCENT_* settings).
SMS_BACKEND = _raw("SMS_BACKEND") or ("locmem" if TESTING else "file" if DEBUG else "tencent")
if SMS_BACKEND not in ("console", "file", "locmem", "tencent") and not re.fullmatch(r"[\w.]+\.\w+", SMS_BACKEND):
    raise ImproperlyConfigured(
        f"SMS_BACKEND={SMS_BACKEND!r} is not understood: use console, file, locmem, tencent or a dotted class path."
    )
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_TENCENT_SECRET_ID = os.environ.get("SMS_TENCENT_SECRET_ID", "")
SMS_TENCENT_SECRET_KEY = os.environ.get("SMS_TENCENT_SECRET_KEY", "")
SMS_TENCENT_REGION = os.environ.get("SMS_TENCENT_REGION", "ap-singapore")
SMS_TENCENT_SDK_APP_ID = os.environ.get("SMS_TENCENT_SDK_APP_ID", "")
# One approved template per kind of notice (notifications.transports.sms.TEMPLATE_SETTINGS).
SMS_TENCENT_TEMPLATE_ID = os.environ.get("SMS_TENCENT_TEMPLATE_ID", "")
SMS_TENCENT_WARNING_TEMPLATE_ID = os.environ.get("SMS_TENCENT_WARNING_TEMPLATE_ID", "")
SMS_TENCENT_REARMED_TEMPLATE_ID = os.environ.get("SMS_TENCENT_REARMED_TEMPLATE_ID", "")
SMS_TENCENT_STATUS_TEMPLATE_ID = os.environ.get("SMS_TENCENT_STATUS_TEMPLATE_ID", "")
SMS_TENCENT_BOUND_TEMPLATE_ID = os.environ.get("SMS_TENCENT_BOUND_TEMPLATE_ID", "")
SMS_TENCENT_SIGN_NAME = os.environ.get("SMS_TENCENT_SIGN_NAME", "")
SMS_TENCENT_ENDPOINT = os.environ.get("SMS_TENCENT_ENDPOINT", "sms.intl.tencentcloudapi.com")
# Delivery outbox: attempts per delivery, retry backoff (seconds, doubling, capped), and how long
# a delivery may sit in "sending" before the stuck-delivery sweep assumes its worker died.
DELIVERY_MAX_ATTEMPTS = env_int("DELIVERY_MAX_ATTEMPTS", 6, minimum=1)
DELIVERY_RETRY_BACKOFF = env_int("DELIVERY_RETRY_BACKOFF", 30, minimum=1)
DELIVERY_RETRY_BACKOFF_MAX = env_int("DELIVERY_RETRY_BACKOFF_MAX", 1800, minimum=1)
DELIVERY_STALE_AFTER = env_int("DELIVERY_STALE_AFTER", CELERY_TASK_TIME_LIMIT + 60, minimum=1)
ALERT_SWEEP_BATCH = env_int("ALERT_SWEEP_BATCH", 5000, minimum=1)
# Sweep batches run this many at a time on PostgreSQL, each on its own connection (one: in turn).
ALERT_SWEEP_WORKERS = env_int("ALERT_SWEEP_WORKERS", 2, minimum=1)
# Links in alert e-mails point here.
CONSOLE_BASE_URL = os.environ.get("CONSOLE_BASE_URL", "http://127.0.0.1:8000")
# Customer invitations (DESIGN §7): how long an invitation link works, in days.
INVITATION_VALID_DAYS = env_int("INVITATION_VALID_DAYS", 7, minimum=1, maximum=365)
INVITATION_VALID_FOR = timedelta(days=INVITATION_VALID_DAYS)
# `make run` turns this on: beat records random demo usage every minute so alerts appear live.
DEMO_USAGE_SIMULATOR = env_bool("DEMO_USAGE_SIMULATOR", False)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))},
}

DJANGO_TABLES2_TEMPLATE = "tables/table.html"
