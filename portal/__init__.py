from __future__ import annotations

# First, before anything logs: every process that loads the portal masks tokens, phone
# numbers and email addresses in its log records (web, manage.py, Celery worker and beat).
from portal import log_masking

log_masking.install()

# Load the Celery app with Django so `shared_task` binds to it.
from portal.celery import app as celery_app  # noqa: E402

__all__ = ["celery_app"]
