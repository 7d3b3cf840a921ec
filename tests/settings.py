"""Settings for the test suite: the real settings, with test-only shortcuts.

`DATABASE_URL` and `REDIS_URL` are honoured exactly as in production, so CI runs
the suite against PostgreSQL and Redis; without them it uses SQLite and no broker.
"""

from __future__ import annotations

import os
import uuid

os.environ.setdefault("SECRET_KEY", "test-only-" + "k" * 60)
# A developer's `.env` (make run writes one) must not change what the suite tests.
os.environ["ENV_FILE"] = ""

from portal.settings import *  # noqa: E402, F403

# Fast hashing: tests create many users and never need strong hashes.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The test client speaks plain HTTP.
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# The __Host- prefix needs Secure cookies, which plain HTTP cannot carry.
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# One test run must never consume another run's (or a developer's) tasks on a shared broker.
CELERY_TASK_DEFAULT_QUEUE = f"test-{uuid.uuid4().hex[:12]}"
if REDIS_URL:  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE  # noqa: F405

# Rate limits count in the shared cache across tests; the rate-limit tests lower them themselves.
TICKET_LIMIT_PER_IP_PER_HOUR = 100_000
FIND_TICKET_LIMIT_PER_IP_PER_HOUR = 100_000
SELF_HELP_LIMIT_PER_IP_PER_HOUR = 100_000
CUSTOMER_EMAILS_PER_ADDRESS_PER_HOUR = 100_000

# A file, not memory: memory-use tests must not count the database itself.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}  # noqa: F405

# Trends are computed on every request in tests; one test switches the cache on.
TRENDS_CACHE_SECONDS = 0
# The dashboard counts open work on every request in tests, too.
LEAD_COUNTS_CACHE_SECONDS = 0

# Accounts: most tests sign in with force_login and no code; the MFA tests switch this on.
STAFF_MFA_REQUIRED = False

# Celery's embedded test worker would replace the root logger's handlers with its own,
# removing pytest's: the suite's log file (see tests/log_audit.py) must see every record.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
