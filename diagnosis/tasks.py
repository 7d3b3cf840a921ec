"""Every Celery task of the app, for Celery's autodiscovery (`app.autodiscover_tasks`).

Each task lives beside the function it calls; this module only gathers them. Task
names are fixed in each decorator, so moving a task never strands queued messages.
"""

from __future__ import annotations

from diagnosis.cases.matching import match_reports_task, match_unmatched_task
from diagnosis.cases.outbox import deliver_email_task, deliver_pending_task
from diagnosis.cases.retention import apply_retention_task
from diagnosis.cases.send_details_imports import dispatch_stale_task, import_task
from diagnosis.cases.sweep import sweep_task
from diagnosis.leads.trends import refresh_trends_task

__all__ = [
    "apply_retention_task",
    "deliver_email_task",
    "deliver_pending_task",
    "dispatch_stale_task",
    "import_task",
    "match_reports_task",
    "match_unmatched_task",
    "refresh_trends_task",
    "sweep_task",
]
