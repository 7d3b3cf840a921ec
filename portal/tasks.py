from __future__ import annotations

from celery import shared_task

from portal.heartbeat import record


@shared_task(name="portal.tasks.heartbeat")
def heartbeat() -> str:
    """Run by a worker on beat's schedule; proves a worker is consuming the queue."""
    return record("worker").isoformat()
