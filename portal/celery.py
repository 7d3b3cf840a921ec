"""The Celery application: broker and schedule come from Django settings (CELERY_*)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Imported for its signal receivers (beat's tick is recorded as it publishes).
import portal.heartbeat  # noqa: E402, F401
