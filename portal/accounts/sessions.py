"""Sessions end after `STAFF_SESSION_IDLE_MINUTES` without activity, and
`STAFF_SESSION_MAX_HOURS` after signing in whatever happens.

The session keeps two stamps (seconds since the epoch): when the user signed in and when
they were last active. Activity is written at most once a minute, so a busy user costs
one session write a minute, not one per request. Background polling (elements marked
with the `X-Background-Poll` header) is not activity: a page left open must still time out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import ngettext

from portal.accounts.audit import address
from portal.accounts.redirects import send_to

logger = logging.getLogger("portal.security")

SIGNED_IN_AT = "accounts_signed_in_at"
LAST_ACTIVE_AT = "accounts_last_active_at"
# How stale the "last active" stamp may get before a request writes it again.
REFRESH_SECONDS = 60
# Sent by polling elements: hx-headers='{"X-Background-Poll": "1"}'.
BACKGROUND_HEADER = "X-Background-Poll"
# The cookie and the stored session outlive the limits by this much, so that the request
# after the limit still carries the session and the sign-in page can say what happened.
GRACE_SECONDS = 5 * 60


@receiver(user_logged_in)
def stamp_sign_in(sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(time.time())
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_ACTIVE_AT] = now


def ended_because(session: Any, now: float) -> str | None:
    """Why this signed-in session is over, in words for the sign-in page; None while it is not."""
    signed_in, last_active = session.get(SIGNED_IN_AT), session.get(LAST_ACTIVE_AT)
    if signed_in is None or last_active is None:
        return None
    hours, minutes = settings.STAFF_SESSION_MAX_HOURS, settings.STAFF_SESSION_IDLE_MINUTES
    if now - signed_in >= hours * 3600:
        reason = ngettext(
            "You were signed out because you signed in more than %(n)d hour ago. Please sign in again.",
            "You were signed out because you signed in more than %(n)d hours ago. Please sign in again.",
            hours,
        )
        return reason % {"n": hours}
    if now - last_active >= minutes * 60:
        reason = ngettext(
            "You were signed out after %(n)d minute of inactivity. Please sign in again.",
            "You were signed out after %(n)d minutes of inactivity. Please sign in again.",
            minutes,
        )
        return reason % {"n": minutes}
    return None


def is_background(request: HttpRequest) -> bool:
    return request.headers.get(BACKGROUND_HEADER) == "1"


class SessionLimitsMiddleware:
    """Sign out sessions past their idle or absolute limit; record activity once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        # Only signed-in sessions; reading the session key costs no user query.
        if session.get(SESSION_KEY) is None:
            return self.get_response(request)
        now = time.time()
        if session.get(SIGNED_IN_AT) is None or session.get(LAST_ACTIVE_AT) is None:
            # Signed in before these limits existed: start counting now.
            session[SIGNED_IN_AT] = session[LAST_ACTIVE_AT] = int(now)
        reason = ended_because(session, now)
        if reason is not None:
            with translation.override("en"):  # the security log stays in English
                logged = ended_because(session, now) or ""
            return self._sign_out(request, reason, logged)
        if not is_background(request) and now - session[LAST_ACTIVE_AT] >= REFRESH_SECONDS:
            session[LAST_ACTIVE_AT] = int(now)
            # Keep the stored session (and the cookie's Max-Age) just past the nearer limit.
            idle_left = settings.STAFF_SESSION_IDLE_MINUTES * 60
            absolute_left = settings.STAFF_SESSION_MAX_HOURS * 3600 - (now - session[SIGNED_IN_AT])
            session.set_expiry(int(min(idle_left, absolute_left)) + GRACE_SECONDS)
        return self.get_response(request)

    def _sign_out(self, request: HttpRequest, reason: str, logged: str) -> HttpResponse:
        username = request.user.get_username()
        logout(request)
        messages.info(request, reason)
        logger.info("session ended: user=%r address=%s reason=%s", username, address(request), logged)
        return send_to(request, reverse(settings.LOGIN_URL))
