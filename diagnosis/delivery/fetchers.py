"""Report fetchers: who may know a status report the portal has not received yet.

The platform has no API to ask for a message's status; reports are pushed or read
on the console. "Asking again" therefore means asking every configured fetcher what
it knows now. The portal's own store (callbacks, imports, agents' entries) is always
consulted; a deployment can add fetchers through `DIAGNOSIS_REPORT_FETCHERS` (dotted
paths to classes implementing `ReportFetcher`) without touching the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from diagnosis.delivery import ingest
from diagnosis.models import Case, StatusReport

logger = logging.getLogger(__name__)
# The setting's earlier name, still read so a deployment that set it keeps its fetchers.
_EARLIER_SETTING = "DIAGNOSIS_STATUS_SOURCES"


class ReportFetcher(Protocol):
    """Something that may know status reports the portal has not received yet."""

    name: str

    def fetch(
        self, msg_ids: Sequence[str], numbers: Sequence[str], since: datetime | None
    ) -> Iterable[StatusReport]:
        """Reports for these message ids / numbers, unsaved; the caller stores them once each.

        Build them with `ingest.build_report`, so they are read like every other report.
        """
        ...


@cache
def configured() -> tuple[ReportFetcher, ...]:
    paths: Iterable[str] = (
        getattr(settings, "DIAGNOSIS_REPORT_FETCHERS", None)
        or getattr(settings, _EARLIER_SETTING, None)
        or ()
    )
    return tuple(import_string(path)() for path in paths)


@receiver(setting_changed)
def _forget_fetchers(setting: str, **kwargs: Any) -> None:
    if setting in ("DIAGNOSIS_REPORT_FETCHERS", _EARLIER_SETTING):
        configured.cache_clear()


def poll(case: Case) -> int:
    """Ask the configured fetchers about the case's messages; returns how many new reports were stored."""
    fetchers = configured()
    if not fetchers:
        return 0
    # Test messages too: their reports fill the case's test panel.
    msg_ids = [
        *case.messages.values_list("msg_id", flat=True),
        *case.test_messages.values_list("msg_id", flat=True),
    ]
    numbers = list(case.recipients.values_list("e164", flat=True))
    stored = 0
    for fetcher in fetchers:
        try:
            # Left unmatched: the sweep resumes this case itself, `match_unmatched` any other they concern.
            stored += ingest.store(fetcher.fetch(msg_ids, numbers, case.waiting_since)).stored
        except Exception:
            # One failing fetcher must not stop the others or the sweep.
            logger.exception("Report fetcher %s failed for case %s", fetcher.name, case.reference)
    return stored
