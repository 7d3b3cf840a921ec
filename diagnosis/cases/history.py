"""A case's history: the one writer of `Event` rows, used by every transition."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from diagnosis.models import Case, Event


def record(case: Case, kind: str, actor: User | None, summary: str, **data: Any) -> Event:
    """Append one event; the summary is cut to what the timeline shows, `data` keeps the rest."""
    return Event.objects.create(case=case, kind=kind, actor=actor, summary=summary[:300], data=data)
