"""The 72-hour wait: when a waiting case is looked at again.

The platform pushes reports and cannot be asked, so a "poll" re-reads what the
portal has received (callbacks, imports, agents' entries) and any extra source a
deployment plugs in. Checks are frequent at first, when most reports arrive, and
sparse later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class PollPhase:
    until: timedelta  # measured from the start of the wait
    every: timedelta
    label: str


SCHEDULE: tuple[PollPhase, ...] = (
    PollPhase(timedelta(hours=1), timedelta(minutes=10), "every 10 minutes in the first hour"),
    PollPhase(timedelta(hours=12), timedelta(minutes=30), "every 30 minutes up to 12 hours"),
    PollPhase(timedelta(hours=72), timedelta(hours=2), "every 2 hours until the deadline"),
)


def next_poll_at(waiting_since: datetime, deadline: datetime, after: datetime) -> datetime | None:
    """The first scheduled check strictly after `after`, or None once the deadline is reached."""
    for phase in SCHEDULE:
        phase_end = waiting_since + phase.until
        if after >= phase_end:
            continue
        elapsed = max(after - waiting_since, timedelta(0))
        steps = elapsed // phase.every + 1
        candidate = waiting_since + phase.every * steps
        if candidate <= min(phase_end, deadline):
            return candidate
        if phase_end >= deadline:
            break
    return None if after >= deadline else deadline


def describe_schedule() -> str:
    return "Re-checked " + ", ".join(p.label for p in SCHEDULE) + "."
