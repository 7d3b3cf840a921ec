"""Context processor: the navigation's count of new customer replies on the agent's cases."""

from __future__ import annotations

import functools
from collections.abc import Callable

from django.http import HttpRequest

from diagnosis.cases import unseen_replies
from portal import roles


def _count(request: HttpRequest) -> int:
    user = request.user
    if not user.is_authenticated or not user.has_perm(roles.WORK_CASES):
        return 0
    return unseen_replies.count_for(user)


def unseen_replies_count(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """`unseen_replies`, worked out only when a template shows it (htmx fragments never do)."""
    return {"unseen_replies": functools.cache(functools.partial(_count, request))}
