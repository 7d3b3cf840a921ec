"""The callback's status sources, remembered for a few seconds in each server process.

Every callback names its source by the token in its URL. The lookup is one indexed query,
yet it is half of what a one-report callback costs: remembering a source found for
`REMEMBER_SECONDS` saves it on every callback but the first in that window.

The price is a short delay: a source revoked or rotated from another process (the
`status_source` command, another server) keeps answering in this process for at most
`REMEMBER_SECONDS`. A change saved in this process (the admin) is seen at once. Tokens
that match no source are never remembered, so probing cannot fill the memory.
"""

from __future__ import annotations

import threading
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from diagnosis.models import StatusSource, token_digest

REMEMBER_SECONDS = 5.0
# Far more sources than a deployment configures; past it everything is forgotten and looked up again.
MAX_REMEMBERED = 256

_clock = time.monotonic  # a name of its own, so tests can move it without moving everyone's clock
_lock = threading.Lock()
_remembered: dict[str, tuple[float, StatusSource]] = {}


def active_source(token: str) -> StatusSource | None:
    """The active source whose token this is, as `StatusSource.active_for_token` gives it.

    The instance is shared with other callbacks of this process: treat it as read-only,
    except for `last_report_at`, which the callback keeps current.
    """
    key = token_digest(token)
    now = _clock()
    remembered = _remembered.get(key)
    if remembered is not None and remembered[0] > now:
        return remembered[1]
    source = StatusSource.active_for_token(token)
    with _lock:
        if source is None:
            _remembered.pop(key, None)
        else:
            if len(_remembered) >= MAX_REMEMBERED:
                _remembered.clear()
            _remembered[key] = (now + REMEMBER_SECONDS, source)
    return source


def forget() -> None:
    """Look every source up again on its next callback."""
    with _lock:
        _remembered.clear()


@receiver(post_save, sender=StatusSource)
@receiver(post_delete, sender=StatusSource)
def _source_changed(sender: type[StatusSource], **kwargs: object) -> None:
    forget()
