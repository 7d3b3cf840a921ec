"""What an agent types into the console's Send Details search to find a case's message.

That page finds one recipient number per search, over a sending-time range of at most
7 days, and keeps only the last 90 days. Pure functions (no ORM): the case page passes
in the case's numbers and times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers

MAX_SPAN = timedelta(days=7)
HISTORY = timedelta(days=90)
# The customer's send time is approximate: search from a day before it to the 72 hours
# the platform may take to settle a message after it (still one search of at most 7 days).
BEFORE_SENT = timedelta(days=1)
AFTER_SENT = timedelta(days=3)
# Send time unknown: the message went out before the case was opened, most likely that week.
UNKNOWN_LOOKBACK = timedelta(days=7)
# Chinese mainland numbers are searched without their country code, all others with it.
MAINLAND_CHINA = 86


@dataclass(frozen=True)
class ConsoleNumber:
    e164: str
    console: str


@dataclass(frozen=True)
class Window:
    """One search: sending time from `start` to `end` (aware datetimes, whole minutes)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ConsoleSearch:
    numbers: tuple[ConsoleNumber, ...]
    windows: tuple[Window, ...]
    # The send time was unknown; the windows cover the week before the case was opened.
    estimated: bool
    # The send time (or, when unknown, the whole range) is older than the console keeps.
    too_old: bool
    # Part of the range is older than the console keeps; the first window starts at the limit.
    clipped: bool
    oldest: datetime


def console_number(e164: str) -> str:
    """The number as the search expects it: country code without "+", except mainland China."""
    parsed = phonenumbers.parse(e164)
    if parsed.country_code == MAINLAND_CHINA:
        return phonenumbers.national_significant_number(parsed)
    return e164.lstrip("+")


def split(start: datetime, end: datetime, span: timedelta = MAX_SPAN) -> list[Window]:
    """Consecutive windows of at most `span` covering start..end (none when the range is empty)."""
    windows = []
    while start < end:
        windows.append(Window(start, min(start + span, end)))
        start += span
    return windows


def plan(
    numbers: Iterable[str], sent_at: datetime | None, opened_at: datetime, now: datetime
) -> ConsoleSearch:
    """The searches that cover the send time, limited to what the console still keeps."""
    oldest = _ceil_minute(now - HISTORY)
    latest = _ceil_minute(now)
    if sent_at is None:
        end = _ceil_minute(min(opened_at, now))
        start = end - UNKNOWN_LOOKBACK
    else:
        # A send time in the future is a mistake of the form; take it as "just now".
        anchor = _ceil_minute(min(sent_at, now))
        start, end = anchor - BEFORE_SENT, anchor + AFTER_SENT
    end = min(end, latest)
    windows = split(max(start, oldest), end)
    return ConsoleSearch(
        # An erased number is a placeholder (cases.erasure), not a number to search for.
        numbers=tuple(ConsoleNumber(n, console_number(n)) for n in numbers if n.startswith("+")),
        windows=tuple(windows),
        estimated=sent_at is None,
        too_old=not windows or (sent_at is not None and sent_at < now - HISTORY),
        clipped=bool(windows) and start < oldest,
        oldest=oldest,
    )


def _ceil_minute(moment: datetime) -> datetime:
    """Whole minutes are what the console's date picker takes; rounding up keeps the moment inside."""
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)
