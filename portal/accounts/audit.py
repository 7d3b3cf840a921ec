"""Security log lines for sign-ins: who, from which address, and what happened.

Passwords and codes are never logged; usernames are logged with %r so that a typed
newline cannot forge a second log line.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal.client_address import client_ip

logger = logging.getLogger("portal.security")


def address(request: HttpRequest | None) -> str:
    return client_ip(request) if request is not None else "-"


@receiver(user_login_failed)
def log_failed_sign_in(
    sender: object, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the username: Django masks the password in `credentials`, but nothing else is needed.
    username = str(credentials.get("username", ""))[:150]
    logger.warning("sign-in failed: username=%r address=%s", username, address(request))


@receiver(user_locked_out)
def log_lockout(
    sender: object, request: HttpRequest | None = None, username: str | None = None, **kwargs: Any
) -> None:
    logger.warning("sign-in locked: username=%r address=%s", (username or "")[:150], address(request))


@receiver(user_logged_in)
def log_sign_in(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    logger.info("sign-in succeeded: user=%r address=%s", user.get_username(), address(request))


@receiver(user_logged_out)
def log_sign_out(sender: object, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        logger.info("signed out: user=%r address=%s", user.get_username(), address(request))
