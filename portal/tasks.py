from __future__ import annotations

from celery import shared_task

from portal.heartbeat import record
from portal.periodic import once_per_slot


@shared_task(name="portal.tasks.heartbeat")
@once_per_slot("heartbeat")
def heartbeat() -> str:
    """Run by a worker on beat's schedule; proves a worker is consuming the queue.

    Once per slot: the copy a second beat publishes returns None and stamps nothing.
    """
    return record("worker").isoformat()
