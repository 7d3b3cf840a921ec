"""The queue table's per-row labels, worked out in Python in one pass over the page.

A template variable with a filter chain costs more than the Python it stands for, and a
page repeats each one 25 times; the row template only prints these strings. The results
are exactly what the template filters gave (`timesince`, `timeuntil`, `date:'c'`, a
localized date, the assignee's name or username).
"""

from __future__ import annotations

from django.utils import formats, timezone
from django.utils.timesince import timesince, timeuntil

from diagnosis.models import Case, CaseState


def label(cases: list[Case]) -> list[Case]:
    """Give each case its display strings (as attributes) and return the list."""
    now = timezone.now()
    for case in cases:
        created = timezone.localtime(case.created_at)
        case.created_iso = created.isoformat()  # type: ignore[attr-defined]
        case.created_title = formats.localize(created)  # type: ignore[attr-defined]
        case.age = timesince(case.created_at, now)  # type: ignore[attr-defined]
        deadline = case.wait_deadline if case.state == CaseState.WAITING else None
        case.time_left = timeuntil(deadline, now) if deadline else ""  # type: ignore[attr-defined]
        user = case.assigned_to
        case.assignee_name = (user.get_full_name() or user.get_username()) if user else ""  # type: ignore[attr-defined]
    return cases
