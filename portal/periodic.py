"""One run per schedule slot for beat-scheduled tasks, however many beats publish them.

Only one beat should run, but a second one started by mistake publishes every
periodic task twice. Each task's entry point first claims its slot with a
conditional write on a `PeriodicSlot` row; a run that loses the claim skips. The
claim lives in the database, not in Redis, so the embedded mode (SQLite for the data
and the broker) is covered too.

The lock wraps only the Celery task: domain functions called directly (tests,
management commands) always do their work.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Half an interval: two beats' copies of one tick fall inside it, while a run that a
# busy worker started late still leaves the next tick its own slot.
SLOT_FRACTION = 0.5


def claim_slot(name: str, interval: timedelta) -> bool:
    """Start a new slot for `name` unless one began less than half an interval ago.

    True for the one caller that claimed it. The UPDATE is a single conditional
    statement, so concurrent callers cannot both pass it (PostgreSQL re-checks the
    condition after the row lock; SQLite serialises writers); the INSERT covers the
    first run ever, and the primary key lets only one concurrent INSERT through.
    """
    from portal.models import PeriodicSlot

    now = timezone.now()
    if PeriodicSlot.objects.filter(name=name, started_at__lte=now - interval * SLOT_FRACTION).update(
        started_at=now
    ):
        return True
    if PeriodicSlot.objects.filter(name=name).exists():
        return False
    try:
        with transaction.atomic():
            PeriodicSlot.objects.create(name=name, started_at=now)
    except IntegrityError:
        return False  # another run inserted it first
    return True


def schedule_interval(entry: str) -> timedelta | None:
    """The beat entry's fixed interval, or None when it is not scheduled at a fixed rate."""
    schedule = settings.CELERY_BEAT_SCHEDULE.get(entry, {}).get("schedule")
    if isinstance(schedule, timedelta):
        return schedule
    if isinstance(schedule, int | float):
        return timedelta(seconds=schedule)
    run_every = getattr(schedule, "run_every", None)  # celery.schedules.schedule
    return run_every if isinstance(run_every, timedelta) else None


def once_per_slot(entry: str) -> Callable[[Callable[P, R]], Callable[P, R | None]]:
    """Run the decorated task body at most once per slot of beat entry `entry`.

    Put it under `@shared_task`. A run that finds the slot taken returns None. The
    interval is read from CELERY_BEAT_SCHEDULE at call time; an entry that is not
    scheduled (or not at a fixed rate) cannot be doubled by beat and runs unlocked.
    A run that claims its slot and then fails leaves the slot claimed: the next
    tick runs it again.
    """

    def decorate(func: Callable[P, R]) -> Callable[P, R | None]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | None:
            interval = schedule_interval(entry)
            if interval is not None and not claim_slot(entry, interval):
                logger.info("Skipped %s: this slot already ran (is a second beat running?)", entry)
                return None
            return func(*args, **kwargs)

        return wrapper

    return decorate
