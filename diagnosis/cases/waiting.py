"""The wait for a status report: when a waiting case is looked at again.

The platform pushes reports and cannot be asked, so a "poll" looks again at the
portal's own store (callbacks, imports and agents' entries) and asks any report
fetcher a deployment plugs in (`delivery.fetchers`). Checks back off: often at first, when most
reports arrive, then twice a day, and always once at the deadline.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils.translation import gettext

# Offsets from the start of the wait; after the last one, every REPEAT until the deadline.
BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12))
REPEAT = timedelta(hours=12)


def next_poll_at(waiting_since: datetime, deadline: datetime, after: datetime) -> datetime | None:
    """The first scheduled check strictly after `after`; the deadline itself is always one.

    None once `after` is at or past the deadline: the sweep then escalates instead of polling.
    """
    if after >= deadline:
        return None
    for offset in BACKOFF:
        if waiting_since + offset > after:
            return min(waiting_since + offset, deadline)
    elapsed = after - (waiting_since + BACKOFF[-1])
    candidate = waiting_since + BACKOFF[-1] + REPEAT * (elapsed // REPEAT + 1)
    return min(candidate, deadline)


def describe_schedule() -> str:
    return gettext(
        "Re-checked 15 minutes, 1 hour, 4 hours and 12 hours into the wait, "
        "then every 12 hours, and at the deadline."
    )
