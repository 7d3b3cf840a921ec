"""Signs of life from Celery beat and workers, stored for /healthz.

Beat's tick is stamped in the beat process as it publishes the heartbeat task;
the worker's is stamped when a worker runs it. Stamping them separately lets
health tell "beat stopped" apart from "no worker is consuming".
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery.signals import after_task_publish, beat_embedded_init, beat_init
from django.db import close_old_connections
from django.utils import timezone

HEARTBEAT_TASK = "portal.tasks.heartbeat"

logger = logging.getLogger(__name__)
_publishing_from_beat = False


def record(component: str) -> datetime:
    """Upsert the component's stamp in one statement; returns the stamp."""
    from portal.models import Heartbeat

    now = timezone.now()
    Heartbeat.objects.bulk_create(
        [Heartbeat(component=component, at=now)],
        update_conflicts=True,
        unique_fields=["component"],
        update_fields=["at"],
    )
    return now


@beat_init.connect
@beat_embedded_init.connect
def _mark_beat_process(**kwargs: Any) -> None:
    global _publishing_from_beat
    _publishing_from_beat = True


@after_task_publish.connect
def _record_beat_tick(sender: str | None = None, **kwargs: Any) -> None:
    if not (_publishing_from_beat and sender == HEARTBEAT_TASK):
        return
    try:
        # Beat is long-lived and, unlike workers, gets no per-task connection
        # cleanup from Celery's Django fixup: drop a connection the server closed.
        close_old_connections()
        record("beat")
    except Exception:
        # Beat must keep scheduling even while the database is away.
        logger.exception("Could not record beat's heartbeat")
