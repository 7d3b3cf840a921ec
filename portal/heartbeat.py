"""Signs of life from Celery beat and workers, stored for /healthz.

Beat's tick is stamped in the beat process as it publishes the heartbeat task;
the worker's is stamped when a worker runs it. Stamping them separately lets
health tell "beat stopped" apart from "no worker is consuming".

Each beat process also names itself (host, pid, start time) with its tick, so
health can tell when more than one beat is running.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
from datetime import datetime
from typing import Any

from celery.signals import after_task_publish, beat_embedded_init, beat_init
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

HEARTBEAT_TASK = "portal.tasks.heartbeat"

logger = logging.getLogger(__name__)
# This process's beat identity, set when it starts as (or embeds) a beat.
_beat_id: str | None = None


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


def beat_identity() -> str:
    """Host, pid and start time: distinct for two beats, new for a restarted one."""
    started = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{socket.gethostname()[:200]}:{os.getpid()}:{started}"


def record_beat_tick(beat_id: str) -> datetime:
    """Stamp beat's tick, both as the component and as this beat process; returns the stamp."""
    from portal.models import BeatProcess

    now = record("beat")
    BeatProcess.objects.bulk_create(
        [BeatProcess(beat_id=beat_id, last_tick=now)],
        update_conflicts=True,
        unique_fields=["beat_id"],
        update_fields=["last_tick"],
    )
    # Health only counts recent ticks; older identities would just pile up.
    BeatProcess.objects.filter(last_tick__lt=now - settings.HEARTBEAT_STALE_AFTER).delete()
    return now


def forget_beat(beat_id: str) -> None:
    """Drop a stopping beat's identity, so a restart is not counted as a second beat."""
    from portal.models import BeatProcess

    BeatProcess.objects.filter(beat_id=beat_id).delete()


def _forget_at_exit(beat_id: str) -> None:
    try:
        close_old_connections()
        forget_beat(beat_id)
    except Exception:
        # Best effort: the identity ages out of health's count anyway.
        logger.warning("Could not remove beat %s from the running beats", beat_id, exc_info=True)


@beat_init.connect
@beat_embedded_init.connect
def _mark_beat_process(**kwargs: Any) -> None:
    global _beat_id
    _beat_id = beat_identity()
    atexit.register(_forget_at_exit, _beat_id)


@after_task_publish.connect
def _record_beat_tick(sender: str | None = None, **kwargs: Any) -> None:
    if not (_beat_id and sender == HEARTBEAT_TASK):
        return
    try:
        # Beat is long-lived and, unlike workers, gets no per-task connection
        # cleanup from Celery's Django fixup: drop a connection the server closed.
        close_old_connections()
        record_beat_tick(_beat_id)
    except Exception:
        # Beat must keep scheduling even while the database is away.
        logger.exception("Could not record beat's heartbeat")
