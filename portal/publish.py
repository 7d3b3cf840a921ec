"""Queueing Celery tasks from requests: after commit, and never at the request's expense.

Every task queued by the portal works on rows its caller has already written, and a
periodic task finds whatever those rows say is still to do. A broker that is down
therefore costs a delay, not the request: the publish is logged and dropped. Settings
keep a failing publish short (`CELERY_TASK_PUBLISH_RETRY_POLICY`, socket timeouts).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import redis.exceptions
from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a broker that is down, restarting or unreachable raises from `apply_async`.
BROKER_ERRORS = (OperationalError, redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


def publish(task: Task, *args: Any, **kwargs: Any) -> bool:
    """Queue `task` now; False (and a warning) if the broker could not take it."""
    try:
        task.apply_async(args, kwargs)
    except BROKER_ERRORS as exc:
        logger.warning("Could not queue %s, left to its periodic catch-up: %s", task.name, exc)
        return False
    return True


def publish_on_commit(task: Task, *args: Any, **kwargs: Any) -> None:
    """Queue `task` once the current transaction commits (at once outside one).

    `robust`: an unexpected error in the publish is logged too, never raised into the
    request after its data is committed.
    """
    transaction.on_commit(partial(publish, task, *args, **kwargs), robust=True)
