"""The "customer replied" marker: a customer message the case's assignee has not seen yet.

`Case.unseen_message_at` holds the time of the customer's latest message until the assignee
opens the case. The queue marks such rows; the navigation counts the agent's own, read from
a short-lived per-user cache that the changes below clear, so most pages pay no query for it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db import transaction

from diagnosis.models import Case

# A backstop for changes that do not clear the count (bulk updates, another process's cache).
COUNT_TIMEOUT = 30  # seconds


_GENERATION_KEY = "unseen-replies:generation"


def _key(user_id: int) -> str:
    generation = cache.get(_GENERATION_KEY) or forget_all()
    return f"unseen-replies:{generation}:{user_id}"


def forget_all() -> str:
    """Make every cached count stale (a new generation); returns the new generation."""
    generation = uuid.uuid4().hex
    cache.set(_GENERATION_KEY, generation, None)
    return generation


def customer_wrote(case: Case, at: datetime) -> None:
    """Mark the case (saved by the caller) and make its assignee's count stale."""
    case.unseen_message_at = at
    forget(case.assigned_to_id)


def seen(case: Case, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The assignee opened the case: clear the marker; True if there was one.

    Only the stamp loaded with `case` is cleared, so a message written meanwhile stays new.
    """
    stamp = case.unseen_message_at
    if stamp is None or case.assigned_to_id is None or case.assigned_to_id != user.pk:
        return False
    Case.objects.filter(pk=case.pk, unseen_message_at=stamp).update(unseen_message_at=None)
    case.unseen_message_at = None
    forget(user.pk)
    return True


def forget(*user_ids: int | None) -> None:
    """Drop these users' cached counts, now and once the caller's transaction commits."""
    keys = [_key(pk) for pk in user_ids if pk is not None]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def count_for(user: AbstractBaseUser | AnonymousUser) -> int:
    """How many of the user's cases have a customer message they have not seen."""
    if user.pk is None:
        return 0
    key = _key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Case.objects.filter(assigned_to=user.pk, unseen_message_at__isnull=False).count()
        cache.set(key, count, COUNT_TIMEOUT)
    return int(count)
