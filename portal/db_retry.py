"""Database connections lost mid-request (failover, restart, pg_terminate_backend).

CONN_HEALTH_CHECKS replaces a dead persistent connection before a request's first
query; a connection that dies after that fails the request's later queries. A safe
request (GET, HEAD, OPTIONS) is then run again, on a new connection, up to
SAFE_RETRIES times (a failover can drop the new connection too). Unsafe methods are
never retried: their first attempt may have committed something.

Django turns an exception into a 500 response inside every middleware layer, so no
middleware can catch one raised by a later middleware (sessions, the login check) or
the view. `got_request_exception`, sent for every uncaught exception wherever it was
raised, marks the request instead; the middleware then retries it, and the first
attempt's error is logged as a warning rather than as a server error.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAFE_RETRIES = 2
_STATE = "_lost_connection_retry"
T = TypeVar("T")


def discard_lost_connections() -> bool:
    """Close the connections that no longer answer; True if there was one.

    A connection inside a transaction is left alone: closing it would silently end
    the transaction its caller still holds (and a test's surrounding one).
    """
    lost = [
        conn
        for conn in connections.all(initialized_only=True)
        if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable()
    ]
    for conn in lost:
        conn.close()
    return bool(lost)


def reconnecting(query: Callable[[], T]) -> T:
    """`query()`, run once more on a new connection if it failed because its connection was lost."""
    try:
        return query()
    except (OperationalError, InterfaceError):
        if not discard_lost_connections():
            raise
    return query()


class _Attempt:
    lost = False
    retried = False  # this is the last attempt: its error is a real one
    retries = 0


def _note_lost_connection(sender: object, request: HttpRequest | None = None, **kwargs: Any) -> None:
    attempt = getattr(request, _STATE, None)
    if attempt is None or attempt.retried:
        return
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError) and discard_lost_connections():
        attempt.lost = True


class RetryOnLostConnectionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        got_request_exception.connect(_note_lost_connection, dispatch_uid=__name__)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS:
            return self.get_response(request)
        attempt = _Attempt()
        setattr(request, _STATE, attempt)
        response = self.get_response(request)
        while attempt.lost:
            attempt.lost = False
            attempt.retries += 1
            attempt.retried = attempt.retries >= SAFE_RETRIES
            logger.warning(
                "Database connection lost in %s %s; retrying (%d of %d)",
                request.method,
                request.path,
                attempt.retries,
                SAFE_RETRIES,
            )
            response = self.get_response(request)
        return response


class SkipRetriedRequestErrors(logging.Filter):
    """Drops django.request's error for an attempt that is about to be retried."""

    def filter(self, record: logging.LogRecord) -> bool:
        attempt = getattr(getattr(record, "request", None), _STATE, None)
        return not (attempt is not None and attempt.lost and not attempt.retried)
