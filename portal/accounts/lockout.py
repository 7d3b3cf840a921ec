"""Brute-force protection on the password step, built on django-axes.

Axes counts failed sign-ins per username and per client address (settings
`AXES_FAILURE_LIMIT`, `AXES_COOLOFF_TIME`) and refuses further attempts, even with the
right password, until the cool-off has passed or someone unlocks them. This module adds
what the portal shows: the lockout page, and the list a team lead unlocks from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from axes.backends import AxesStandaloneBackend
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from portal.accounts.audit import address

logger = logging.getLogger("portal.security")

Kind = Literal["account", "address"]


class LockoutBackend(AxesStandaloneBackend):
    """axes' backend, for sign-ins that come with a request.

    Code that checks a password without a request (a management command, a test) has no
    client to count failures for; axes would raise there, so this backend steps aside and
    the password check goes on as usual. Every web sign-in passes a request.
    """

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


@dataclass(frozen=True)
class Lockout:
    kind: Kind
    value: str
    failures: int
    last_failure: datetime

    @property
    def unlocks_at(self) -> datetime:
        return self.last_failure + settings.AXES_COOLOFF_TIME


def current_lockouts() -> list[Lockout]:
    """Usernames and addresses refused right now, most recent first.

    Counted as axes counts: failures whose latest attempt is within the cool-off.
    """
    recent = AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)
    found: list[Lockout] = []
    fields: tuple[tuple[str, Kind], ...] = (("username", "account"), ("ip_address", "address"))
    for field, kind in fields:
        rows = (
            recent.exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
            .order_by("-last")
        )
        found.extend(Lockout(kind, row[field], row["failures"], row["last"]) for row in rows)
    return found


def unlock(kind: Kind, value: str, by: AbstractBaseUser | AnonymousUser) -> int:
    """Forget the failures of one username or address; returns how many records went."""
    removed = reset(username=value) if kind == "account" else reset(ip=value)
    logger.info("sign-in unlocked: %s=%r by=%r", kind, value, by.get_username())
    return removed


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the sign-in page again, saying why, with 429 Too Many Requests."""
    context = {
        "form": AuthenticationForm(request),
        "locked_out": True,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
        "next": request.POST.get("next", ""),
    }
    logger.info("sign-in refused while locked: address=%s", address(request))
    return render(request, "registration/login.html", context, status=429)
