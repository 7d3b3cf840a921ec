"""Delivery status sources: who may know a status the portal has not stored yet.

The platform has no API to ask for a message's status; reports are pushed or read
on the console. "Asking again" therefore means asking every configured source what
it knows now. The portal's own store (callbacks, imports, agents' entries) is always
consulted; a deployment can add sources through `DIAGNOSIS_STATUS_SOURCES` (dotted
paths to classes implementing `DeliverySource`) without touching the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from diagnosis.delivery import ingest
from diagnosis.models import Case, StatusReport

logger = logging.getLogger(__name__)


class DeliverySource(Protocol):
    """Something that may know delivery statuses the portal has not stored yet."""

    name: str

    def fetch(
        self, msg_ids: Sequence[str], numbers: Sequence[str], since: datetime | None
    ) -> Iterable[StatusReport]:
        """Reports for these message ids / numbers (unsaved; the caller stores them once each)."""
        ...


@cache
def extra_sources() -> tuple[DeliverySource, ...]:
    return tuple(import_string(path)() for path in getattr(settings, "DIAGNOSIS_STATUS_SOURCES", ()))


def poll(case: Case) -> int:
    """Ask the extra sources about the case's messages; returns how many new reports were stored."""
    sources = extra_sources()
    if not sources:
        return 0
    # Test messages too: their reports fill the case's test panel.
    msg_ids = [
        *case.messages.values_list("msg_id", flat=True),
        *case.test_messages.values_list("msg_id", flat=True),
    ]
    numbers = list(case.recipients.values_list("e164", flat=True))
    stored = 0
    for source in sources:
        try:
            # Left unmatched: the sweep resumes this case itself, `match_unmatched` any other they concern.
            stored += ingest.store(source.fetch(msg_ids, numbers, case.waiting_since)).stored
        except Exception:
            # One failing source must not stop the others or the sweep.
            logger.exception("Delivery source %s failed for case %s", source.name, case.reference)
    return stored
