"""Settings for the SMS delivery support portal.

Everything that differs between machines comes from the environment (see
`.env.example`). With nothing set, the portal runs embedded for development:
SQLite for the data and for the Celery broker under `var/`, local-memory cache.
PostgreSQL and Redis are switched on by `DATABASE_URL` and `REDIS_URL`.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_int, env_list, env_secret, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# A local `.env` (see `.env.example`) fills in what the real environment leaves unset.
# ENV_FILE names another file; empty reads none (the test suite must not see a developer's).
_env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env")).strip()
if _env_file and Path(_env_file).is_file():
    environ.Env.read_env(_env_file)
VAR_DIR = Path(env_str("VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    key = env_secret("SECRET_KEY")
    if key:
        if not DEBUG and (len(key) < 50 or key.startswith("django-insecure")):
            raise ImproperlyConfigured("SECRET_KEY is too weak for production (50+ random characters).")
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: keep one random key under var/ so sessions survive restarts.
    path = VAR_DIR / "dev-secret-key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    # Accounts: sign-in lockout and one-time codes (see the Accounts section below).
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "portal",
    "diagnosis",
]

MIDDLEWARE = [
    # First: refuses an oversized body before anything (CSRF reads POST) starts reading it.
    "portal.body_limit.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that reads the database (sessions, users): retries a safe
    # request once when its database connection was lost mid-request.
    "portal.db_retry.RetryOnLostConnectionMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the one chosen in the switch (a cookie), else the browser's.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Accounts: which one-time-code device verified this session (request.user.is_verified()).
    "django_otp.middleware.OTPMiddleware",
    # A staff member's own language preference wins over the switch and the browser.
    "diagnosis.workspace.language.StaffLanguageMiddleware",
    # Every view needs a login unless it is explicitly marked public.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Accounts: end idle or too-old sessions, then hold unverified sessions at the code step.
    "portal.accounts.sessions.SessionLimitsMiddleware",
    "portal.accounts.mfa.RequireVerifiedMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES: list[dict[str, Any]] = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.navigation.navigation",
                "diagnosis.workspace.navigation.unseen_replies_count",
            ],
        },
    },
]

# Database ------------------------------------------------------------------

_database_url = env_str("DATABASE_URL")
if _database_url:
    DATABASES = {"default": environ.Env.db_url_config(_database_url)}
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            # The web server, a worker and beat share one file: wait for locks
            # instead of failing, and take the write lock up front.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache and Celery ----------------------------------------------------------

REDIS_URL = env_str("REDIS_URL")

if REDIS_URL:
    # Redis may be down while the portal serves: the cache then misses and drops writes
    # (portal.cache) and task publishes are logged and dropped (portal.publish). Short
    # socket timeouts keep a Redis that hangs rather than refuses from holding requests.
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND: str | None = REDIS_URL
    # socket_timeout stays above kombu's 1 s BRPOP wait, which workers block on.
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"socket_connect_timeout": 1, "socket_timeout": 2}
    CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
    CELERY_REDIS_SOCKET_TIMEOUT = 2
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A transactional broker in SQLite: a message is a committed row, so no reader can
    # see half of one (the file transport could, and crashed the worker). Its own file
    # keeps broker writes from waiting on the portal's database lock.
    CELERY_BROKER_URL = f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"connect_args": {"timeout": 30}}
    # Every task ignores its result; without Redis there is nowhere worth keeping one.
    CELERY_RESULT_BACKEND = None
    # Remote control needs a fanout exchange, which this transport does not have.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
    VAR_DIR.mkdir(parents=True, exist_ok=True)

CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One quick retry (a pooled connection to a restarted Redis is stale), then give up:
# a publish with the broker down fails within a few seconds at worst, never hangs.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Beat publishes a heartbeat task; a worker runs it. Health reads both stamps.
HEARTBEAT_INTERVAL = timedelta(seconds=env_int("HEARTBEAT_INTERVAL_SECONDS", 15, minimum=1))
HEARTBEAT_STALE_AFTER = HEARTBEAT_INTERVAL * 4
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "heartbeat": {
        "task": "portal.tasks.heartbeat",
        "schedule": HEARTBEAT_INTERVAL,
        # A heartbeat nobody ran in time is worthless; do not replay a backlog.
        "options": {"expires": HEARTBEAT_INTERVAL.total_seconds()},
    },
    # Emails whose immediate task was lost or failed (diagnosis.cases.outbox).
    "deliver-pending-emails": {"task": "diagnosis.deliver_pending_emails", "schedule": timedelta(minutes=1)},
}

# Delivery status, waiting and escalation --------------------------------------

# The wait for a status report: the platform reports at the latest 72 hours after
# sending; the grace leaves time for its own EXPIRED report to arrive.
DIAGNOSIS_WAIT_HOURS = env_int("DIAGNOSIS_WAIT_HOURS", 72, minimum=1)
DIAGNOSIS_WAIT_GRACE_MINUTES = env_int("DIAGNOSIS_WAIT_GRACE_MINUTES", 60, minimum=0)
DIAGNOSIS_SWEEP_SECONDS = env_int("DIAGNOSIS_SWEEP_SECONDS", 120, minimum=5)
# The team overview flags a new or in-progress case nobody has touched for this many hours.
LEAD_STALE_AFTER_HOURS = env_int("LEAD_STALE_AFTER_HOURS", 24, minimum=1)
# Leads polling within this many seconds of each other share one count of the open work.
LEAD_COUNTS_CACHE_SECONDS = env_int("LEAD_COUNTS_CACHE_SECONDS", 15, minimum=0)
# Where escalations to the SMS provider's customer service are emailed.
CUSTOMER_SERVICE_EMAIL = env_str("CUSTOMER_SERVICE_EMAIL", "sms-provider-support@example.com")
# Public base URL of the portal, used in links sent by email and in statusCallback.
PORTAL_BASE_URL = (env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
# The Huawei Cloud SMS application used for test messages (X-WSSE authentication).
SMS_API_URL = (env_str("SMS_API_URL") or "").rstrip("/")
SMS_APP_KEY = env_secret("SMS_APP_KEY") or ""
SMS_APP_SECRET = env_secret("SMS_APP_SECRET") or ""
SMS_SENDER = env_str("SMS_SENDER", "") or ""
SMS_TEST_TEMPLATE_ID = env_str("SMS_TEST_TEMPLATE_ID", "") or ""
# Values for the test template's variables, comma separated (empty for a template without any).
SMS_TEST_TEMPLATE_PARAS = env_list("SMS_TEST_TEMPLATE_PARAS")
SMS_API_TIMEOUT_SECONDS = env_int("SMS_API_TIMEOUT_SECONDS", 10, minimum=1)

# Abuse and upload limits -------------------------------------------------------

# Per hour, counted in the cache (Redis in production), per client address as the
# trusted proxies report it (portal.client_address). Filing and find-my-tickets each
# have their own bucket; emails from the public forms are capped per recipient, and
# the ones over the cap are skipped (the ticket is still filed, its link shown).
TICKET_LIMIT_PER_IP_PER_HOUR = env_int("TICKET_LIMIT_PER_IP_PER_HOUR", 10, minimum=1)
FIND_TICKET_LIMIT_PER_IP_PER_HOUR = env_int("FIND_TICKET_LIMIT_PER_IP_PER_HOUR", 10, minimum=1)
# Self-help answers on the ticket form (about five checks per ticket), counted apart from filing.
SELF_HELP_LIMIT_PER_IP_PER_HOUR = env_int("SELF_HELP_LIMIT_PER_IP_PER_HOUR", 60, minimum=1)
CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR = env_int("CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR", 5, minimum=1)
# Request bodies over these sizes are refused with 413 before they are read
# (portal.body_limit): every form but the leads' Send Details import, and that import.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 6 * 1024 * 1024, minimum=64 * 1024)
MAX_IMPORT_BODY_BYTES = env_int("MAX_IMPORT_BODY_BYTES", 100 * 1024 * 1024, minimum=64 * 1024)
IMPORT_BODY_PATHS = ("/leads/import/",)
# Uploads above this size go to a temporary file instead of memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Form data other than files, per request: the largest form (the queue's 25 ticked cases,
# a 4,000-character description) is far below both.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 500

# The leads' causes-and-trends reports are recomputed in the background this often and
# kept until the next refresh replaces them; 0 computes them on every request (tests).
TRENDS_REFRESH_SECONDS = env_int("TRENDS_REFRESH_SECONDS", 300, minimum=0)
TRENDS_CACHE_SECONDS = TRENDS_REFRESH_SECONDS * 2
if TRENDS_REFRESH_SECONDS:
    CELERY_BEAT_SCHEDULE["refresh-trends"] = {
        "task": "diagnosis.refresh_trends",
        "schedule": timedelta(seconds=TRENDS_REFRESH_SECONDS),
        "options": {"expires": TRENDS_REFRESH_SECONDS},
    }

# Open case pages and the home page's notifications ask this often whether anything changed
# (diagnosis.cases.live): one cheap query per ask, and a refresh only when something did.
LIVE_UPDATE_SECONDS = env_int("LIVE_UPDATE_SECONDS", 4, minimum=1)

# Callbacks store status reports unmatched; this often, beat's matcher resumes the waiting
# cases they concern, in sets. Each report is matched at least once, each case resumed once.
DIAGNOSIS_MATCH_SECONDS = env_int("DIAGNOSIS_MATCH_SECONDS", 5, minimum=1)
CELERY_BEAT_SCHEDULE["match-unmatched-reports"] = {
    "task": "diagnosis.match_unmatched_reports",
    "schedule": timedelta(seconds=DIAGNOSIS_MATCH_SECONDS),
    "options": {"expires": DIAGNOSIS_MATCH_SECONDS},
}

# Send Details imports run in the background; beat queues again those no live worker holds
# (a task lost while the broker was down, a worker killed mid-import).
CELERY_BEAT_SCHEDULE["dispatch-send-details-imports"] = {
    "task": "diagnosis.dispatch_send_details_imports",
    "schedule": timedelta(seconds=30),
    "options": {"expires": 30},
}
# Lines an import stores per transaction on PostgreSQL: one step of its progress bar, and
# what a worker killed mid-batch has to store again. Files read row by row (those COPY
# cannot take) are stored in batches of at most 2,000 rows, kept in memory.
SEND_DETAILS_IMPORT_BATCH_LINES = env_int("SEND_DETAILS_IMPORT_BATCH_LINES", 50_000, minimum=1)

CELERY_BEAT_SCHEDULE["waiting-sweep"] = {
    "task": "diagnosis.sweep_waiting_cases",
    "schedule": timedelta(seconds=DIAGNOSIS_SWEEP_SECONDS),
    "options": {"expires": DIAGNOSIS_SWEEP_SECONDS},
}

# Retention of personal data (diagnosis.cases.retention) ---------------------------
# Closed cases are erased this many days after closing (placeholders for the customer's
# data; the anonymised case stays for the trends). Rejected callback bodies and sent
# emails are deleted after their own, shorter periods; an unsent email is never deleted.
# A customer's tracking link stops working this many days after the case is closed.
PERSONAL_DATA_RETENTION_DAYS = env_int("PERSONAL_DATA_RETENTION_DAYS", 365, minimum=1)
REJECTED_PAYLOAD_RETENTION_DAYS = env_int("REJECTED_PAYLOAD_RETENTION_DAYS", 30, minimum=1)
SENT_EMAIL_RETENTION_DAYS = env_int("SENT_EMAIL_RETENTION_DAYS", 90, minimum=1)
TRACKING_LINK_DAYS_AFTER_CLOSE = env_int("TRACKING_LINK_DAYS_AFTER_CLOSE", 30, minimum=0)
CELERY_BEAT_SCHEDULE["apply-retention"] = {
    "task": "diagnosis.apply_retention",
    "schedule": timedelta(hours=1),
    "options": {"expires": 3600},
}

# Accounts ------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# The axes backend comes first: it refuses a locked-out sign-in before any password check.
AUTHENTICATION_BACKENDS = [
    "portal.accounts.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force protection (portal.accounts.lockout): 5 failures for one username, or from
# one address, within the cool-off lock that username or address for the cool-off.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "portal.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.accounts.lockout.lockout_response"
# A success does not wipe the count: axes would also wipe the address's failures on other
# usernames, so an attacker with one account of their own could reset their counter.
AXES_RESET_ON_SUCCESS = False
# Sign-ins are logged by portal.accounts.audit; no second copy of who signed in where.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False

# Staff one-time codes (portal.accounts.mfa). Required in production; a developer running
# `make run` may skip it unless STAFF_MFA_REQUIRED=1.
STAFF_MFA_REQUIRED = env_bool("STAFF_MFA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "SMS delivery support")
# An administrator may remove someone's lost authenticator, never read its key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Sessions end after this much inactivity, and this long after signing in whatever happens
# (portal.accounts.sessions). Background polling does not count as activity.
STAFF_SESSION_IDLE_MINUTES = env_int("STAFF_SESSION_IDLE_MINUTES", 30, minimum=1)
STAFF_SESSION_MAX_HOURS = env_int("STAFF_SESSION_MAX_HOURS", 12, minimum=1)
# The cookie outlives the idle limit by a few minutes, so the next request still carries it
# and the sign-in page can say why the session ended; the middleware enforces the limit.
SESSION_COOKIE_AGE = (STAFF_SESSION_IDLE_MINUTES + 5) * 60

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Time: stored in UTC, shown in TIME_ZONE -------------------------------------

# Languages: English and Simplified Chinese; a third is a new message file under locale/.
LANGUAGE_CODE = "en"
# Each language is named in its own words, so a reader finds theirs in the switch.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The portal writes times one way everywhere (portal/formats/en/formats.py).
FORMAT_MODULE_PATH = ["portal.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC") or "UTC"
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"TIME_ZONE={TIME_ZONE!r} is not a known time zone (e.g. Europe/Berlin).")
# Country assumed for phone numbers typed without a country code (ISO code such as DE); empty: none.
PHONE_REGION = (env_str("PHONE_REGION") or "").upper()
USE_I18N = True
USE_TZ = True

# Static files ----------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Development serves static files through WhiteNoise too, straight from the sources.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

# Email ------------------------------------------------------------------------

_email_url = env_secret("EMAIL_URL")
if _email_url:
    globals().update(environ.Env.email_url_config(_email_url))
elif DEBUG:
    # Development: one file per email under var/, instead of whole emails in the log.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "sent-emails"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# Without a timeout a stalled SMTP server would hold a worker forever; the outbox's
# claim on an email (diagnosis.cases.outbox.claim_lease) is sized from it.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT_SECONDS", 20, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SMS support <support@localhost>")
SERVER_EMAIL = env_str("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

# Security: strict unless DEBUG, each switch overridable ----------------------

BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", default=False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the portal append to X-Forwarded-For (portal.client_address).
# Only that many entries, counted from the right, are believed; 0 uses the socket's address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0, minimum=0)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# Load balancers probe health over plain HTTP; a redirected status-report push would
# lose its body, so the callback answers on whatever scheme the platform used.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^hooks/"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Secure cookies get the __Host- prefix: the browser then refuses one set by a subdomain
# or over plain HTTP, so nobody can plant a session or CSRF cookie for us.
SESSION_COOKIE_NAME = "__Host-sessionid" if SESSION_COOKIE_SECURE else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if CSRF_COOKIE_SECURE else "csrftoken"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy, Permissions-Policy and no-store ------------------------
# Kept in one block on purpose: it adds to INSTALLED_APPS and MIDDLEWARE by name, so it
# does not depend on the order of the lists above.

INSTALLED_APPS += ["csp"]  # its system checks catch settings in the old CSP_* form
# Outermost after SecurityMiddleware, so every response gets both policies, errors included.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "csp.middleware.CSPMiddleware"
)
MIDDLEWARE.insert(
    MIDDLEWARE.index("csp.middleware.CSPMiddleware") + 1, "portal.security_headers.permissions_policy"
)
# Inside WhiteNoise: static files answer before it and stay cacheable; every other response
# carries a CSRF token, a staff member's data or a private tracking link.
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1, "portal.security_headers.no_store"
)
# Only the portal's own files: no inline script or style anywhere (tests/test_no_inline_code.py
# scans for them), and htmx is told not to evaluate code or inject its indicator style
# (the htmx-config meta tag in base.html). Inline SVG charts need no img-src: they are markup.
# Under DEBUG, django-htmx's error display pastes Django's debug page into the current page
# and runs its scripts with eval, which this policy refuses: that traceback shows unstyled
# (the server log and a direct GET of the URL still give the full page).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Logging -----------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"retried": {"()": "portal.db_retry.SkipRetriedRequestErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    # A request retried after a lost connection logs a warning, not an error, unless the retry fails too.
    "loggers": {
        "django.request": {"filters": ["retried"]},
        # Sign-ins, failures, lockouts and code checks (portal.accounts.audit).
        "portal.security": {"level": "INFO"},
        # axes' own lines repeat ours with the username masked; keep only its warnings.
        "axes": {"level": "WARNING"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
